"""The alerts' part of the message store: conditions, their open/resolved state, notices.

An **alert** is one condition (a rule about one thing: file 12 quarantined, dead letters for
one destination) from the moment it is seen until it clears; ``alerts_one_open`` makes it
one row whichever daemon sees it first, so a restart neither repeats nor forgets it. Each
transition (opened, resolved) gets one **notice** per channel, sent once (``message_id``
names what carried it) or retried later (``due_at``). Every transition is also an event on
the thing itself (``alert``, ``alert-resolved``), so it shows in ``trace`` and on the
console's dashboard.

The rules' own queries (``rule_<name>`` in alerts.sql) read the store's state and events;
gateway/alerts/rules.py gives their rows meaning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.store.connection import Connection, Transaction, returned_row
from gateway.store.models import Row, utc

# (db, entity_type, entity_id, action, actor, reason) -> the event row, in db's transaction
EventLog = Callable[[Transaction, str, object, str, str, str], Row]
ACTOR = "alerts"


@dataclass(frozen=True)
class Condition:
    """Something wrong now, as a rule sees it. ``summary`` holds ids, counts and codes only."""

    rule: str
    entity_type: str  # "file", "destination", "partner", "daemon"
    entity_id: str
    summary: str
    count: int = 1

    @property
    def key(self) -> tuple[str, str, str]:
        return self.rule, self.entity_type, self.entity_id


@dataclass(frozen=True)
class Alert:
    id: int
    rule: str
    entity_type: str
    entity_id: str
    state: str  # "open" or "resolved"
    summary: str
    count: int
    opened_at: datetime
    resolved_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return self.rule, self.entity_type, self.entity_id


@dataclass(frozen=True)
class Notice:
    """One transition of one alert, waiting for one channel."""

    alert: Alert
    transition: str  # "opened" or "resolved"
    channel: str
    attempts: int


class AlertStore:
    """Alert statements over the store's intake connection (``store.alerts``)."""

    def __init__(self, db: Connection, sql: Mapping[str, str], log_event: EventLog) -> None:
        self._db = db
        self._sql = sql
        self._log_event = log_event

    # -- reads (the console's too) -----------------------------------------------------------

    def open(self) -> list[Alert]:
        """Every open alert, newest first."""
        return [alert_from_row(row) for row in self._db.all(self._sql["open_alerts"], {})]

    def recent(self, limit: int = 20) -> list[Alert]:
        """The latest alerts, open and resolved, newest first."""
        rows = self._db.all(self._sql["recent_alerts"], {"limit": limit})
        return [alert_from_row(row) for row in rows]

    def rule_rows(self, rule: str) -> Sequence[Row]:
        """The rows of ``rule_<rule>``: entity_id, partner, n, detail."""
        return self._db.all(self._sql["rule_" + rule.replace("-", "_")], {})

    # -- transitions -------------------------------------------------------------------------

    def raise_alert(
        self, condition: Condition, channels: Sequence[str], now: float
    ) -> Alert | None:
        """Open an alert for ``condition`` with a notice per channel; None when one is open
        already (another daemon was first)."""
        params = {"rule": condition.rule, "entity_type": condition.entity_type,
                  "entity_id": condition.entity_id, "summary": condition.summary,
                  "count": condition.count, "now": now}
        with self._db.transaction() as db:
            row = db.execute(self._sql["insert_alert"], params).fetchone()
            if row is None:
                return None
            self._transition(db, row, "opened", "alert", channels, now)
        return alert_from_row(row)

    def resolve(self, alert: Alert, channels: Sequence[str], now: float) -> Alert | None:
        """Resolve an open alert with a notice per channel; None if it was resolved already."""
        with self._db.transaction() as db:
            row = db.execute(self._sql["resolve_alert"], {"id": alert.id, "now": now}).fetchone()
            if row is None:
                return None
            self._transition(db, row, "resolved", "alert-resolved", channels, now)
        return alert_from_row(row)

    def update(self, alert: Alert, condition: Condition) -> None:
        """The condition grew or shrank (more dead letters): new summary, no new notice."""
        params = {"id": alert.id, "summary": condition.summary, "count": condition.count}
        self._db.write_one(self._sql["update_alert"], params)

    def _transition(self, db: Transaction, row: Row, transition: str, action: str,
                    channels: Sequence[str], now: float) -> None:
        for channel in channels:
            params = {"alert_id": row["id"], "transition": transition, "channel": channel,
                      "now": now}
            db.execute(self._sql["insert_notice"], params)
        reason = f"{row['rule']}: {row['summary']}"
        self._log_event(db, row["entity_type"], row["entity_id"], action, ACTOR, reason)

    # -- notices -----------------------------------------------------------------------------

    def due(self, channel: str, now: float) -> list[Notice]:
        rows = self._db.all(self._sql["due_notices"], {"channel": channel, "now": now})
        return [Notice(alert_from_row(row), row["transition"], row["channel"], row["attempts"])
                for row in rows]

    def messages_since(self, channel: str, seconds: float, now: float) -> int:
        """Messages sent on ``channel`` in the last ``seconds`` (what the rate limit counts)."""
        row = self._db.one(self._sql["messages_since"],
                           {"channel": channel, "window": float(seconds), "now": now})
        return int(row["n"]) if row else 0

    def sent(self, channel: str, notices: Sequence[Notice], now: float) -> None:
        """One message carried ``notices``: record it and close them, in one transaction."""
        with self._db.transaction() as db:
            message = db.execute(self._sql["insert_message"],
                                 {"channel": channel, "notices": len(notices), "now": now})
            message_id = returned_row(message, "insert_message")["id"]
            for notice in notices:
                db.execute(self._sql["notice_sent"], {**_notice_key(notice),
                                                      "message_id": message_id})

    def failed(self, notices: Sequence[Notice], error: str, retry_in: float, now: float) -> None:
        with self._db.transaction() as db:
            for notice in notices:
                params = {**_notice_key(notice), "error": error[:500], "retry_in": retry_in,
                          "now": now}
                db.execute(self._sql["notice_failed"], params)


def _notice_key(notice: Notice) -> dict[str, Any]:
    return {"alert_id": notice.alert.id, "transition": notice.transition,
            "channel": notice.channel}


def alert_from_row(row: Row) -> Alert:
    return Alert(
        id=row["id"], rule=row["rule"], entity_type=row["entity_type"],
        entity_id=row["entity_id"], state=row["state"], summary=row["summary"],
        count=row["count"], opened_at=utc(row["opened_at"]),  # type: ignore[arg-type]
        resolved_at=utc(row["resolved_at"]),
    )
