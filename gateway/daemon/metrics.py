"""Prometheus metrics of one daemon.

Each daemon owns a :class:`~prometheus_client.CollectorRegistry` (never the process-global
one), so tests can run several daemons in one process and scrape each on its own.

Two kinds of figures:

* **events counted as they happen** (files received, documents, deliveries, retries, dead
  letters, acknowledgments, SLA misses, polls) — counters bumped by the daemon;
* **the state of the queue** (deliveries by state, depth and oldest pending age per
  destination) — read from the message store at scrape time by :class:`QueueCollector`, so the
  numbers are the store's truth even after a restart, and are the same whichever daemon of a
  PostgreSQL cluster is scraped.

Labels carry partner and destination ids, never anything about a patient.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gateway.daemon.schedule import utc_now
from gateway.store import open_store
from gateway.store.models import DeliveryState
from gateway.store.queue_depth import WAITING, QueueTotals


@dataclass(frozen=True)
class QueueSnapshot:
    """The delivery queue as the store sees it now."""

    by_state: dict[str, int] = field(default_factory=dict)
    depth: dict[str, int] = field(default_factory=dict)  # destination -> pending deliveries
    oldest_age: dict[str, float] = field(default_factory=dict)  # destination -> seconds


def read_queue_snapshot(store_url: str) -> QueueSnapshot:
    """The queue now, read on a connection of its own (a scrape runs on the HTTP thread)."""
    store = open_store(store_url, migrate=False)
    try:
        rows = store.queue_depth()
    finally:
        store.close()
    queue = QueueTotals.of(rows)
    totals = queue.by_state()
    by_state = {state.value: totals.get(state, 0) for state in DeliveryState}
    return QueueSnapshot(by_state=by_state, depth=queue.by_destination(WAITING),
                         oldest_age=queue.oldest_age(WAITING, utc_now()))


class QueueCollector(Collector):
    """Reads a :class:`QueueSnapshot` at every scrape."""

    def __init__(self, snapshot: Callable[[], QueueSnapshot]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        snap = self._snapshot()
        by_state = GaugeMetricFamily("gateway_deliveries", "Deliveries by state, from the store",
                                     labels=["state"])
        for state, count in sorted(snap.by_state.items()):
            by_state.add_metric([state], count)
        depth = GaugeMetricFamily("gateway_queue_depth",
                                  "Deliveries waiting (pending or retrying) per destination",
                                  labels=["destination"])
        oldest = GaugeMetricFamily("gateway_queue_oldest_pending_seconds",
                                   "Age of the oldest waiting delivery per destination",
                                   labels=["destination"])
        for destination, count in sorted(snap.depth.items()):
            depth.add_metric([destination], count)
        for destination, age in sorted(snap.oldest_age.items()):
            oldest.add_metric([destination], age)
        yield from (by_state, depth, oldest)


class Metrics:
    """Every metric the daemon exports, on its own registry."""

    def __init__(self, snapshot: Callable[[], QueueSnapshot] | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.files_received = Counter(
            "gateway_files_received", "Files fetched from partners, by outcome "
            "(accepted, duplicate)", ["partner", "outcome"], registry=r)
        self.quarantined = Counter(
            "gateway_files_quarantined", "Accepted files refused as structurally broken",
            ["partner", "code"], registry=r)
        self.files_failed = Counter(
            "gateway_files_failed", "Files a stage could not process (state failed), by stage",
            ["partner", "stage"], registry=r)
        self.documents = Counter(
            "gateway_documents", "Canonical documents parsed from accepted files",
            ["partner", "format"], registry=r)
        self.deliveries_done = Counter(
            "gateway_deliveries_completed", "Deliveries written to their destination",
            ["destination"], registry=r)
        self.retries = Counter(
            "gateway_delivery_retries", "Failed delivery attempts scheduled for retry",
            ["destination"], registry=r)
        self.dead_letters = Counter(
            "gateway_dead_letters", "Deliveries moved to the dead letter state",
            ["destination"], registry=r)
        self.polls = Counter(
            "gateway_polls", "Polls of partner sources by outcome (ok, failed)",
            ["partner", "outcome"], registry=r)
        self.last_poll = Gauge(
            "gateway_last_successful_poll_timestamp_seconds",
            "Unix time of the last successful poll per partner", ["partner"], registry=r)
        self.sla_missed = Counter(
            "gateway_sla_missed", "SLA deadlines passed without the expected file",
            ["partner", "kind"], registry=r)
        self.cycles = Counter("gateway_cycles", "Completed daemon cycles", registry=r)
        if snapshot is not None:
            r.register(QueueCollector(snapshot))

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)


def parse_exposition(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Samples of a Prometheus text page keyed by (name, sorted labels): for tests and `status`.

    Uses prometheus-client's own parser, so what is checked is what a Prometheus server reads.
    """
    from prometheus_client.parser import text_string_to_metric_families

    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples
