"""Scheduled reconciliation reports, delivered through the queue like any document.

When ``[reports]`` of ``mappings/reconcile.toml`` says weekly or monthly, each active member
gets its report of the period just ended, in each format listed, at its roster destination.
A report is kept in the store as a document the gateway made (``record_generated``), so it
is delivered, retried, dead-lettered, traced and replayed like a split 835; the delivery's
idempotency key (pharmacy, period, format) and the ledger's ``ledger_reports`` rows make a
second pass — the next cycle, a restart, a second daemon — queue nothing twice.

Reports are judged as of the day they are made; a payment that arrives later shows in the
next period's report of the claims it pays only if their dates of service fall there (the
on-demand ``gateway reconcile`` always sees everything).
"""

from __future__ import annotations

from datetime import date

from gateway.config.members import Roster
from gateway.log import get_logger
from gateway.reconcile.config import ReconcileConfig
from gateway.reconcile.documents import build_report
from gateway.reconcile.ledger import Ledger, Scope
from gateway.reconcile.ledgers import open_ledger
from gateway.store.base import MessageStore

SOURCE = "gateway:reconcile"
ACTOR = "reconcile"
LEASE = "reconcile-reports"  # one daemon publishes at a time (shared PostgreSQL store)
LEASE_SECONDS = 900.0


class ReportPublisher:
    def __init__(self, store: MessageStore, rules: ReconcileConfig, roster: Roster,
                 holder: str) -> None:
        self.store = store
        self.rules = rules
        self.roster = roster
        self.holder = holder
        self.log = get_logger(component="reconcile")
        self._done: tuple[date, date] | None = None  # the period fully queued already

    def publish_due(self, today: date) -> int:
        """Queue every report due by ``today`` and not queued yet; return how many."""
        period = self.rules.reports.due_period(today)
        if period is None or period == self._done:
            return 0
        if not self.store.acquire_poll_lease(LEASE, self.holder, LEASE_SECONDS):
            return 0
        try:
            queued = self._publish(period, today)
        finally:
            self.store.release_poll_lease(LEASE, self.holder)
        self._done = period
        return queued

    def _publish(self, period: tuple[date, date], today: date) -> int:
        start, end = period
        queued = 0
        with open_ledger(self.store) as ledger:
            done = ledger.reports_queued(start, end)
            for member in self.roster:
                formats = [f for f in self.rules.reports.formats
                           if (member.pharmacy_id, f) not in done]
                if not member.active or not formats:
                    continue
                scope = Scope(member.pharmacy_id, None, start, end, today)
                report = build_report(ledger, scope, self.rules, title=(
                    f"Claims reconciliation: {member.name} ({member.pharmacy_id}), "
                    f"{start} to {end}"))
                try:
                    for fmt in formats:
                        self._queue(ledger, member.pharmacy_id, str(member.destination),
                                    period, fmt, report.render(fmt))
                        queued += 1
                finally:
                    report.close()
        self.log.info("reconciliation reports queued", period_start=str(start),
                      period_end=str(end), reports=queued)
        return queued

    def _queue(self, ledger: Ledger, pharmacy: str, destination: str,
               period: tuple[date, date], fmt: str, data: bytes) -> None:
        start, end = period
        name = f"reconciliation-{pharmacy}-{start}-{end}.{fmt}"
        kept = self.store.record_generated(source=SOURCE, name=name, data=data, actor=ACTOR)
        document = self.store.add_document(
            kept.id, 0, kind=f"reconciliation-{fmt}", routing_keys={"pharmacy_id": pharmacy},
            payload_sha256=kept.sha256)
        delivery = self.store.enqueue(
            document.id, destination=destination, format=fmt, output_name=name,
            idempotency_key=f"reconcile:{pharmacy}:{start}:{end}:{fmt}",
            payload_sha256=kept.sha256, actor=ACTOR)
        ledger.report_queued(pharmacy, start, end, fmt, delivery.id)
