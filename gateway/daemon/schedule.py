"""When to poll a partner, and when a partner is late.

A **poll schedule** is an interval (every 5 minutes) optionally limited to a daily window
(06:00-20:00 in the partner's time zone) and to business days: PBMs publish remittances on
their own clock, and polling an SFTP server all night is noise in both parties' logs.

An **SLA rule** says what an operator expects: "an 835 from this PBM by 10:00 on business
days". When the deadline passes without such a file the daemon raises an event, a log line and
a metric once for that day — a late remittance is how a PSAO learns a PBM's job failed before
the pharmacies ring.

Both come from a partner's ``[schedule]`` and ``[sla]`` tables (validated by
:mod:`gateway.config.partners`); the window is in the gateway's time zone (``gateway.toml``),
an SLA in its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from zoneinfo import ZoneInfo

DEFAULT_INTERVAL = 300.0


@dataclass(frozen=True)
class PollSchedule:
    """Every ``interval`` seconds, inside ``[start, end)`` local time when a window is set."""

    interval: float = DEFAULT_INTERVAL
    start: time | None = None
    end: time | None = None
    days: str = "daily"
    zone: tzinfo = UTC

    def in_window(self, now: datetime, holidays: frozenset[date] = frozenset()) -> bool:
        """True when polling is allowed at ``now`` (an aware datetime)."""
        local = now.astimezone(self.zone)
        if self.days == "business" and not is_business_day(local.date(), holidays):
            return False
        if self.start is None or self.end is None:
            return True
        t = local.time()
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end  # a window across midnight, e.g. 22:00-04:00

    def is_due(self, now: datetime, last_poll: datetime | None,
               holidays: frozenset[date] = frozenset()) -> bool:
        """Poll now? In the window, and the interval has passed since the last poll."""
        if not self.in_window(now, holidays):
            return False
        return last_poll is None or (now - last_poll).total_seconds() >= self.interval


@dataclass(frozen=True)
class SlaRule:
    """A file of ``kind`` (``835``, ``ncpdp`` or ``any``) is expected by ``by`` local time."""

    kind: str
    by: time
    days: str = "business"
    zone: tzinfo = UTC

    def deadline(self, day: date) -> datetime:
        return datetime.combine(day, self.by, tzinfo=self.zone)

    def missed(self, now: datetime, last_received: datetime | None,
               holidays: frozenset[date] = frozenset()) -> date | None:
        """The local day whose deadline passed with no file since that day began, else None."""
        local = now.astimezone(self.zone)
        day = local.date()
        if self.days == "business" and not is_business_day(day, holidays):
            return None
        if local < self.deadline(day):
            return None
        day_start = datetime.combine(day, time(0), tzinfo=self.zone)
        if last_received is not None and last_received >= day_start:
            return None
        return day

    def describe(self) -> str:
        days = "business days" if self.days == "business" else "every day"
        what = "a file" if self.kind == "any" else f"an {self.kind.upper()} file"
        return f"{what} by {self.by:%H:%M} {self.zone} on {days}"


def is_business_day(day: date, holidays: frozenset[date] = frozenset()) -> bool:
    """Monday to Friday, not a configured holiday."""
    return day.weekday() < 5 and day not in holidays


def poll_schedule(interval: float, window_start: str | None, window_end: str | None, *,
                  zone: tzinfo = UTC, days: str = "daily") -> PollSchedule:
    """A PollSchedule from a partner's ``[schedule]`` (times as validated "HH:MM" strings)."""
    start = _clock(window_start) if window_start else None
    end = _clock(window_end) if window_end else None
    return PollSchedule(interval=float(interval), start=start, end=end, days=days, zone=zone)


def sla_rule(expected_by: str, *, business_days: bool, timezone: str,
             kind: str = "835") -> SlaRule:
    """An SlaRule from a partner's ``[sla]`` (already validated by the partner loader)."""
    return SlaRule(kind=kind, by=_clock(expected_by), days="business" if business_days
                   else "daily", zone=ZoneInfo(timezone))


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def utc_now() -> datetime:
    """The one clock of the daemon (aware, UTC); tests pass their own datetimes instead."""
    return datetime.now(UTC)
