"""When to poll a partner, and when a partner is late.

A **poll schedule** is an interval (every 5 minutes) optionally limited to a daily window
(06:00-20:00 in the partner's time zone) and to business days: PBMs publish remittances on
their own clock, and polling an SFTP server all night is noise in both parties' logs.

An **SLA rule** says what an operator expects: "an 835 from this PBM by 10:00 on business
days". When the deadline passes without such a file the daemon raises an event, a log line and
a metric once for that day — a late remittance is how a PSAO learns a PBM's job failed before
the pharmacies ring.

Both are parsed from TOML tables (``[poll]`` and ``[[sla]]``) with messages naming where.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.errors import ConfigError

DAY_KINDS = ("daily", "business")
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
        return f"a {self.kind} file by {self.by:%H:%M} {self.zone} on {days}"


def is_business_day(day: date, holidays: frozenset[date] = frozenset()) -> bool:
    """Monday to Friday, not a configured holiday."""
    return day.weekday() < 5 and day not in holidays


def parse_poll(table: dict[str, Any], *, where: str,
               default: PollSchedule | None = None) -> PollSchedule:
    """A ``[poll]`` table: ``interval`` seconds, ``window = "06:00-20:00"``, ``days``, ``timezone``.

    Keys left out take their value from ``default`` (the gateway-wide ``[poll]``).
    """
    base = default or PollSchedule()
    _known(table, where, {"interval", "window", "days", "timezone"})
    interval = table.get("interval", base.interval)
    if isinstance(interval, bool) or not isinstance(interval, int | float) or interval < 1:
        raise ConfigError(f"interval must be a number of seconds >= 1, not {interval!r}",
                          where=f"{where} interval", fix="write e.g. interval = 300")
    start, end = base.start, base.end
    if "window" in table:
        start, end = _window(table["window"], f"{where} window")
    return PollSchedule(
        interval=float(interval), start=start, end=end,
        days=_days(table.get("days", base.days), f"{where} days"),
        zone=_zone(table["timezone"], f"{where} timezone") if "timezone" in table else base.zone,
    )


def parse_sla(entries: Any, *, where: str, zone: tzinfo | None = None) -> tuple[SlaRule, ...]:
    """``[[sla]]`` entries: ``kind = "835"``, ``by = "10:00"``, ``days``, ``timezone``."""
    if not isinstance(entries, list):
        raise ConfigError("sla must be a list of tables", where=where,
                          fix='write each rule as [[sla]] with by = "10:00"')
    rules = []
    for n, entry in enumerate(entries, start=1):
        at = f"{where}[{n}]"
        if not isinstance(entry, dict):
            raise ConfigError("each sla entry must be a table", where=at,
                              fix='write [[sla]] then by = "10:00"')
        _known(entry, at, {"kind", "by", "days", "timezone"})
        kind = entry.get("kind", "835")
        if kind not in ("835", "ncpdp", "any"):
            raise ConfigError(f"unknown kind {kind!r}", where=f"{at} kind",
                              fix='use "835", "ncpdp" or "any"')
        if "by" not in entry:
            raise ConfigError("missing key", where=f"{at} by", fix='write e.g. by = "10:00"')
        rules.append(SlaRule(
            kind=kind, by=_clock(entry["by"], f"{at} by"),
            days=_days(entry.get("days", "business"), f"{at} days"),
            zone=_zone(entry["timezone"], f"{at} timezone") if "timezone" in entry
            else (zone or UTC),
        ))
    return tuple(rules)


def next_poll_delay(schedule: PollSchedule, now: datetime, last_poll: datetime | None) -> float:
    """Seconds until the interval next elapses (the window is checked when it does)."""
    if last_poll is None:
        return 0.0
    return max(0.0, schedule.interval - (now - last_poll).total_seconds())


def _window(value: Any, where: str) -> tuple[time, time]:
    if not isinstance(value, str) or value.count("-") != 1:
        raise ConfigError(f"window must be \"HH:MM-HH:MM\", not {value!r}", where=where,
                          fix='write e.g. window = "06:00-20:00" (local time of timezone)')
    first, second = value.split("-")
    start, end = _clock(first.strip(), where), _clock(second.strip(), where)
    if start == end:
        raise ConfigError("window start and end are equal", where=where,
                          fix="leave window out to poll around the clock")
    return start, end


def _clock(value: Any, where: str) -> time:
    if isinstance(value, time):
        return value
    try:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ConfigError(f"{value!r} is not a time of day", where=where,
                          fix='write 24-hour "HH:MM", e.g. "10:00"') from None


def _days(value: Any, where: str) -> str:
    if value not in DAY_KINDS:
        raise ConfigError(f"days must be one of {', '.join(DAY_KINDS)}, not {value!r}",
                          where=where, fix='write days = "business" (Mon-Fri) or "daily"')
    return value


def _zone(value: Any, where: str) -> tzinfo:
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {value!r}", where=where,
                          fix='use an IANA name such as "America/Chicago"') from None


def _known(table: dict[str, Any], where: str, keys: set[str]) -> None:
    for key in table:
        if key not in keys:
            raise ConfigError("unknown key", where=f"{where} {key}",
                              fix="known keys: " + ", ".join(sorted(keys)))


def utc_now() -> datetime:
    """The one clock of the daemon (aware, UTC); tests pass their own datetimes instead."""
    return datetime.now(UTC)
