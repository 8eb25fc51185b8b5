"""The partners' SLA deadlines: "a file from this partner by 10:00 on business days".

The daemon's main loop tells :class:`SlaWatch` when a partner sent a new file and asks it,
every cycle, which deadlines passed without one. Each miss is counted, recorded as an
``sla-missed`` event of the partner (which the alerts read) and logged once per rule and day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from gateway.daemon.metrics import Metrics
from gateway.daemon.runtime import PartnerRuntime
from gateway.store.base import MessageStore
from gateway.store.models import FileStatus


class SlaWatch:
    """When each partner last sent a new file, and which misses were already reported."""

    def __init__(self, store: MessageStore, partners: Iterable[str], log: Any) -> None:
        self.last_received = _last_received(store, partners)
        self._log = log
        self._reported: set[tuple[str, int, date]] = set()

    def received(self, partner: str, at: datetime) -> None:
        self.last_received[partner] = at

    def check(self, store: MessageStore, partners: Iterable[PartnerRuntime], now: datetime,
              holidays: frozenset[date], metrics: Metrics) -> None:
        """Report every deadline passed without a file, once."""
        for partner in partners:
            for n, rule in enumerate(partner.sla):
                day = rule.missed(now, self.last_received.get(partner.id), holidays)
                if day is None or (partner.id, n, day) in self._reported:
                    continue
                self._reported.add((partner.id, n, day))
                metrics.sla_missed.labels(partner.id, rule.kind).inc()
                reason = f"expected {rule.describe()}; none received by {day} {rule.by:%H:%M}"
                store.record_event("partner", partner.id, "sla-missed", actor="daemon",
                                   reason=reason)
                self._log.warning("sla missed", partner=partner.id, kind=rule.kind,
                                  day=str(day), deadline=f"{rule.by:%H:%M}")


def _last_received(store: MessageStore, partners: Iterable[str]) -> dict[str, datetime]:
    """When each partner last sent a new file, so a restart does not forget a file that
    already met today's SLA. A re-sent duplicate does not count; a refused file does (the
    partner did deliver; the refusal has its own alert, event and negative ack)."""
    latest: dict[str, datetime] = {}
    for partner in partners:
        for received in store.list_files(partner=partner, limit=50):
            if received.status is not FileStatus.DUPLICATE:
                latest[partner] = received.received_at
                break
    return latest
