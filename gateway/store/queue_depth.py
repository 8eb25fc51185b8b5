"""The delivery queue summed up: one reading of the store's :class:`QueueDepth` rows.

The store answers ``queue_depth()`` with one row per (state, destination). The daemon's
metrics, ``gateway queue``, ``gateway status`` and the console's dashboard each need sums of
those rows — per state, per destination, the oldest waiting — and sum them here, one way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from gateway.store.models import DeliveryState, QueueDepth

WAITING = frozenset({DeliveryState.PENDING, DeliveryState.FAILED, DeliveryState.LEASED})
DUE = frozenset({DeliveryState.PENDING, DeliveryState.FAILED})  # a worker takes them when due
NEEDS_OPERATOR = frozenset({DeliveryState.DEAD, DeliveryState.HELD})


@dataclass(frozen=True)
class QueueTotals:
    """Sums over the rows of one ``queue_depth()`` answer."""

    rows: tuple[QueueDepth, ...]

    @classmethod
    def of(cls, rows: Iterable[QueueDepth]) -> QueueTotals:
        return cls(tuple(rows))

    def _in(self, states: Iterable[DeliveryState]) -> list[QueueDepth]:
        wanted = frozenset(states)
        return [row for row in self.rows if row.state in wanted]

    def count(self, states: Iterable[DeliveryState]) -> int:
        """How many deliveries are in any of ``states``."""
        return sum(row.count for row in self._in(states))

    def by_state(self) -> dict[DeliveryState, int]:
        """Deliveries per state, for the states that have any."""
        totals: dict[DeliveryState, int] = {}
        for row in self.rows:
            totals[row.state] = totals.get(row.state, 0) + row.count
        return totals

    def by_destination(self, states: Iterable[DeliveryState]) -> dict[str, int]:
        """Deliveries in ``states`` per destination."""
        totals: dict[str, int] = {}
        for row in self._in(states):
            totals[row.destination] = totals.get(row.destination, 0) + row.count
        return totals

    def oldest_age(self, states: Iterable[DeliveryState], now: datetime) -> dict[str, float]:
        """Seconds since the oldest delivery in ``states`` was enqueued, per destination
        (never below zero: a clock step back does not make a negative age)."""
        ages: dict[str, float] = {}
        for row in self._in(states):
            if row.oldest_enqueued_at is not None:
                age = (now - row.oldest_enqueued_at).total_seconds()
                ages[row.destination] = max(ages.get(row.destination, 0.0), age)
        return ages

    def oldest(self, states: Iterable[DeliveryState], now: datetime) -> QueueDepth | None:
        """The row in ``states`` that has waited longest (None when there is none)."""
        rows = self._in(states)
        return min(rows, key=lambda row: row.oldest_enqueued_at or now) if rows else None
