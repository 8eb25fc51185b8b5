"""Poll windows and SLA deadlines, on fixed clocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from gateway.daemon.schedule import PollSchedule, SlaRule, poll_schedule, sla_rule

CHICAGO = ZoneInfo("America/Chicago")
MONDAY = date(2026, 11, 23)
SATURDAY = date(2026, 11, 28)


def at(day: date, hh: int, mm: int = 0, zone=CHICAGO) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=zone)


def test_interval_and_window():
    schedule = poll_schedule(300, "06:00", "20:00", zone=CHICAGO)
    assert not schedule.is_due(at(MONDAY, 5, 59), None)
    assert schedule.is_due(at(MONDAY, 6, 0), None)
    last = at(MONDAY, 9, 0)
    assert not schedule.is_due(last + timedelta(seconds=299), last)
    assert schedule.is_due(last + timedelta(seconds=300), last)
    assert not schedule.is_due(at(MONDAY, 20, 0), None)
    # the same instant seen in UTC is judged in the partner's zone
    assert schedule.is_due(at(MONDAY, 7, 0).astimezone(UTC), None)


def test_window_across_midnight_and_business_days():
    schedule = PollSchedule(interval=60, start=time(22), end=time(4), days="business",
                            zone=CHICAGO)
    assert schedule.in_window(at(MONDAY, 23))
    assert schedule.in_window(at(MONDAY, 3))
    assert not schedule.in_window(at(MONDAY, 12))
    assert not schedule.in_window(at(SATURDAY, 23))
    assert not schedule.in_window(at(MONDAY, 23), holidays=frozenset({MONDAY}))


def test_sla_missed_once_the_deadline_passes_without_a_file():
    rule = SlaRule(kind="835", by=time(10), days="business", zone=CHICAGO)
    assert rule.missed(at(MONDAY, 9, 59), None) is None
    assert rule.missed(at(MONDAY, 10, 0), None) == MONDAY
    # a file received yesterday does not satisfy today's rule; one received today does
    assert rule.missed(at(MONDAY, 11), at(MONDAY - timedelta(days=1), 9)) == MONDAY
    assert rule.missed(at(MONDAY, 11), at(MONDAY, 0, 30)) is None
    assert rule.missed(at(SATURDAY, 11), None) is None
    assert rule.missed(at(MONDAY, 11), None, holidays=frozenset({MONDAY})) is None


def test_sla_from_partner_config():
    rule = sla_rule("10:00", business_days=True, timezone="America/New_York")
    assert rule.kind == "835" and rule.by == time(10) and rule.days == "business"
    assert "10:00" in rule.describe() and "America/New_York" in rule.describe()
    assert sla_rule("07:30", business_days=False, timezone="UTC").days == "daily"
