"""The one reading of the queue's rows: sums per state and destination, the oldest waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.store.models import DeliveryState, QueueDepth
from gateway.store.queue_depth import DUE, NEEDS_OPERATOR, WAITING, QueueTotals

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
S = DeliveryState


def _queue() -> QueueTotals:
    return QueueTotals.of([
        QueueDepth(S.PENDING, "folder:a", 3, NOW - timedelta(seconds=30)),
        QueueDepth(S.FAILED, "folder:a", 2, NOW - timedelta(seconds=90)),
        QueueDepth(S.LEASED, "folder:b", 1, NOW + timedelta(seconds=5)),  # a clock step back
        QueueDepth(S.DEAD, "folder:b", 4, None),
        QueueDepth(S.HELD, "held", 1, NOW - timedelta(days=1)),
    ])


def test_sums_per_state_and_per_destination():
    queue = _queue()
    assert queue.by_state() == {S.PENDING: 3, S.FAILED: 2, S.LEASED: 1, S.DEAD: 4, S.HELD: 1}
    assert queue.by_destination(WAITING) == {"folder:a": 5, "folder:b": 1}
    assert queue.count(DUE) == 5 and queue.count(NEEDS_OPERATOR) == 5


def test_the_oldest_waiting_and_ages_never_below_zero():
    queue = _queue()
    assert queue.oldest_age(WAITING, NOW) == {"folder:a": 90.0, "folder:b": 0.0}
    oldest = queue.oldest(DUE, NOW)
    assert oldest is not None and oldest.state is S.FAILED
    assert QueueTotals.of([]).oldest(DUE, NOW) is None
