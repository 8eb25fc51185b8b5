"""The ``[retention]`` section of ``gateway.toml``: how long the gateway keeps what.

    [retention]
    payload_days = 90      # raw and rendered bytes, counted from a file's last successful delivery
    rollup_days = 365      # its delivery rows and events, then rolled into the audit table
    audit_years = 6        # the audit table (HIPAA 45 CFR 164.316(b)(2)(i): six years at least)
    sweep_hours = 24       # temp files and orphan payloads older than this are swept
    daily_at = "03:30"     # the daemon's daily prune (gateway time zone); "off": by hand only

Dead letters, held parts and quarantined files are never pruned, whatever their age: the
prune report names them so that an operator decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from gateway.config.toml_reader import TomlReader

HIPAA_YEARS = 6


@dataclass(frozen=True)
class Cutoffs:
    """The moments before which each kind of record may go (see :meth:`RetentionPolicy.at`)."""

    payloads: datetime
    rollup: datetime
    audit: datetime
    sweep: datetime


@dataclass(frozen=True)
class RetentionPolicy:
    payload_days: int = 90
    rollup_days: int = 365
    audit_years: int = HIPAA_YEARS
    sweep_hours: int = 24
    daily_at: time | None = time(3, 30)

    def at(self, now: datetime) -> Cutoffs:
        """The cutoffs seen from ``now`` (the clock is the caller's: tests pass a fake one)."""
        return Cutoffs(now - timedelta(days=self.payload_days),
                       now - timedelta(days=self.rollup_days),
                       years_before(now, self.audit_years),
                       now - timedelta(hours=self.sweep_hours))


def years_before(now: datetime, years: int) -> datetime:
    """The same calendar moment ``years`` earlier (29 February becomes the 28th)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


class RetentionReader(TomlReader):
    """Validates ``[retention]``; every message names file, line, key and the fix."""

    def policy(self) -> RetentionPolicy:
        table = self._table("retention")
        self._known(table, "retention", {"payload_days", "rollup_days", "audit_years",
                                         "sweep_hours", "daily_at"})
        payload = self._int(table, "retention", "payload_days", 90, low=1, high=3650)
        audit = self._int(table, "retention", "audit_years", HIPAA_YEARS, low=HIPAA_YEARS,
                          high=100)
        rollup = self._int(table, "retention", "rollup_days", max(365, payload), low=payload,
                           high=audit * 365)
        return RetentionPolicy(
            payload_days=payload, rollup_days=rollup, audit_years=audit,
            sweep_hours=self._int(table, "retention", "sweep_hours", 24, low=1, high=24 * 30),
            daily_at=self._daily_at(table),
        )

    def _daily_at(self, table: dict[str, object]) -> time | None:
        text = self._str(table, "retention", "daily_at", "03:30")
        if text in ("off", ""):
            return None
        try:
            return time.fromisoformat(text)
        except ValueError:
            self._fail("retention", "daily_at", f"{text!r} is not a time of day",
                       'write e.g. daily_at = "03:30", or "off" to prune only by hand')
            raise  # unreachable: _fail raised
