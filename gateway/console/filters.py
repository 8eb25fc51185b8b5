"""Form and query values into the service's queries: days in the daemon's time zone (an
``until`` day is included whole), amounts normalised, empty strings meaning "any"."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

from gateway.errors import ConfigError
from gateway.service import normalise_amount
from gateway.store.models import DeliveryState, FileStatus
from gateway.store.operator import DeliveryQuery, FileQuery


def today_start(zone: tzinfo) -> datetime:
    return datetime.combine(datetime.now(zone).date(), time(), zone).astimezone(UTC)


def day_range(since: date | None, until: date | None,
              zone: tzinfo) -> tuple[datetime | None, datetime | None]:
    """``since`` from its first moment, ``until`` to its last (a day at the very end of the
    calendar bounds nothing)."""
    return _start(since, zone), _start(until + timedelta(days=1) if until and until < date.max
                                       else None, zone)


def _start(day: date | None, zone: tzinfo) -> datetime | None:
    if day is None:
        return None
    try:
        return datetime.combine(day, time(), zone).astimezone(UTC)
    except OverflowError:  # year 1 west of UTC
        return None


def _any(value: str | None) -> str | None:
    return value.strip() or None if value else None


def file_query(partner: str | None, status: FileStatus | None, pharmacy: str | None,
               trace_number: str | None, amount: str | None, since: datetime | None,
               until: datetime | None) -> FileQuery:
    money = _any(amount)
    return FileQuery(status=status, partner=_any(partner), pharmacy=_any(pharmacy),
                     trace_number=_any(trace_number),
                     amount=normalise_amount(money) if money else None, since=since, until=until)


def delivery_query(state: DeliveryState | None, destination: str | None, pharmacy: str | None,
                   partner: str | None, since: datetime | None,
                   until: datetime | None) -> DeliveryQuery:
    return DeliveryQuery(state=state, destination=_any(destination), pharmacy=_any(pharmacy),
                         partner=_any(partner), since=since, until=until)


def parse_day(text: str | None, what: str) -> date | None:
    """A form's ``YYYY-MM-DD`` (empty: none)."""
    if not text or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"{what} {text!r} is not a date", fix="write YYYY-MM-DD") from None


def parse_choice(text: str | None, kind: type[FileStatus] | type[DeliveryState],
                 what: str) -> FileStatus | DeliveryState | None:
    if not text or not text.strip():
        return None
    try:
        return kind(text.strip())
    except ValueError:
        raise ConfigError(f"{what} {text!r} is unknown",
                          fix="use one of " + ", ".join(k.value for k in kind)) from None
