"""``gateway prune``: apply the retention policy (``[retention]``, gateway/config/retention.py).

In order: payloads of files settled more than ``payload_days`` ago; their delivery rows and
events, after ``rollup_days``, into the audit table; after ``audit_years`` every record of
the file, and events about no file. Dead letters, held parts and quarantined files are never
touched: the report counts them (and names the first dead letters) instead.

The clock is a parameter (``now``): the daemon passes its own, tests a fake one. A run is
recorded as a ``retention``/``prune`` event, which is also what the daemon's daily schedule
reads, so several daemons on one store prune once a day between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo

from gateway.config.retention import RetentionPolicy
from gateway.store.base import MessageStore
from gateway.store.retention import RetentionStore, open_retention

ENTITY = ("retention", "prune")


@dataclass
class PruneReport:
    """What a run removed (or, dry, would remove)."""

    dry_run: bool
    payloads: int = 0
    payload_bytes: int = 0
    rolled_files: int = 0
    rolled_deliveries: int = 0
    rolled_events: int = 0
    expired_files: int = 0
    expired_events: int = 0
    kept: dict[str, int] = field(default_factory=dict)
    dead_letters: list[int] = field(default_factory=list)

    def lines(self) -> list[str]:
        verb = "would remove" if self.dry_run else "removed"
        roll = "would roll up" if self.dry_run else "rolled up"
        out = [f"payloads: {verb} {self.payloads} ({self.payload_bytes:,} bytes)",
               f"audit: {roll} {self.rolled_files} files"
               + ("" if self.dry_run else f" ({self.rolled_deliveries} deliveries, "
                  f"{self.rolled_events} events)"),
               f"audit period over: {verb} {self.expired_files} files and "
               f"{self.expired_events} events about no file"]
        for what, count in self.kept.items():
            if count:
                out.append(f"kept for an operator (never pruned): {count} {what}")
        if self.dead_letters:
            out.append("  dead letters: " + " ".join(f"D{i}" for i in self.dead_letters)
                       + " (see `gateway deliveries list --state dead`)")
        return out

    def summary(self) -> str:
        return (f"{self.payloads} payloads ({self.payload_bytes} bytes), "
                f"{self.rolled_files} files rolled up, {self.expired_files} files and "
                f"{self.expired_events} events expired; kept "
                + ", ".join(f"{n} {what}" for what, n in self.kept.items()))


def prune(store: MessageStore, policy: RetentionPolicy, now: datetime, *,
          dry_run: bool = False, actor: str = "retention") -> PruneReport:
    """Apply ``policy`` as seen from ``now``; record the run unless ``dry_run``."""
    with open_retention(store) as retention:
        report = _run(retention, policy, now, dry_run)
    if not dry_run:
        store.record_event(*ENTITY, "pruned", actor=actor, reason=report.summary())
    return report


def _run(retention: RetentionStore, policy: RetentionPolicy, now: datetime,
         dry_run: bool) -> PruneReport:
    cut = policy.at(now)
    report = PruneReport(dry_run)
    report.kept, report.dead_letters = retention.kept_back(cut.payloads)
    if dry_run:
        due = retention.payloads_due(cut.payloads)
        report.payloads, report.payload_bytes = len(due), sum(size for _, size in due)
        report.rolled_files = len(retention.files_to_roll(cut.rollup))
        report.expired_files = len(retention.files_to_expire(cut.audit))
        report.expired_events = retention.stale_events(cut.audit)
        return report
    report.payloads, report.payload_bytes = retention.prune_payloads(cut.payloads, now)
    (report.rolled_files, report.rolled_deliveries,
     report.rolled_events) = retention.roll_up(cut.rollup, now)
    report.expired_files, report.expired_events = retention.expire(cut.audit, now)
    return report


def last_run(store: MessageStore) -> datetime | None:
    """When ``prune`` last ran on this store (by any daemon or operator)."""
    runs = [e.at for e in store.events(*ENTITY) if e.action == "pruned"]
    return max(runs, default=None)


def due(daily_at: time | None, now: datetime, last: datetime | None, zone: tzinfo) -> bool:
    """The daily run is due once ``daily_at`` (local time) has passed today and no run
    happened since."""
    if daily_at is None:
        return False
    local = now.astimezone(zone)
    today = datetime.combine(local.date(), daily_at, tzinfo=local.tzinfo)
    if local < today:
        today -= timedelta(days=1)
    return last is None or last < today
