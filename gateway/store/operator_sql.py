"""The operator store (operator.py) over the SQL back ends, written once for both.

Its statements are in ``sql/<backend>/console.sql``. Times passed to searches are Unix
seconds: SQLite compares them as stored, PostgreSQL converts them with ``to_timestamp``.
"""

from __future__ import annotations

import time
from datetime import datetime

from gateway.errors import StoreError
from gateway.store.actions_sql import ActionSQLStore
from gateway.store.connection import returned_row
from gateway.store.errors import NotFound
from gateway.store.models import Event, ReceivedFile, event_from_row, file_from_row
from gateway.store.operator import DeliveryQuery, FileQuery
from gateway.store.operator_models import (
    ConsoleSession,
    DeliveryListing,
    FileCount,
    PharmacyDocument,
    Role,
    User,
    file_count_from_row,
    listing_from_row,
    pharmacy_document_from_row,
    session_from_row,
    user_from_row,
)
from gateway.store.sqlstore import Params, _Connection


def _seconds(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment is not None else None


class OperatorSQLStore(ActionSQLStore[_Connection]):
    """The operator's state changes (actions_sql.py) plus what operators search, and the
    console's accounts."""

    # -- searches ----------------------------------------------------------------------------

    def search_files(self, query: FileQuery, *, limit: int, offset: int = 0) -> list[ReceivedFile]:
        params: Params = {
            "status": query.status and query.status.value,
            "partner": query.partner,
            "pharmacy": query.pharmacy,
            "trace_number": query.trace_number,
            "amount": query.amount,
            "since": _seconds(query.since),
            "until": _seconds(query.until),
            "limit": limit,
            "offset": offset,
        }
        return self._read("search_files", params, file_from_row)

    def search_deliveries(
        self, query: DeliveryQuery, *, limit: int, offset: int = 0
    ) -> list[DeliveryListing]:
        params: Params = {
            "state": query.state and query.state.value,
            "destination": query.destination,
            "partner": query.partner,
            "pharmacy": query.pharmacy,
            "file_id": query.file_id,
            "since": _seconds(query.since),
            "until": _seconds(query.until),
            "limit": limit,
            "offset": offset,
        }
        return self._read("search_deliveries", params, listing_from_row)

    def file_counts(self, *, since: datetime | None = None) -> list[FileCount]:
        return self._read("file_counts", {"since": _seconds(since)}, file_count_from_row)

    def last_documents_by_pharmacy(self) -> dict[str, PharmacyDocument]:
        found = self._read("last_documents_by_pharmacy", {}, pharmacy_document_from_row)
        return {item.pharmacy_id: item for item in found}

    def recent_alerts(self, limit: int = 20) -> list[Event]:
        return self._read("recent_alerts", {"limit": limit}, event_from_row)

    # -- accounts ----------------------------------------------------------------------------

    def add_user(self, name: str, password_hash: str, role: Role, *, actor: str) -> User:
        params = {"name": name, "password_hash": password_hash, "role": role.value,
                  "now": time.time()}
        with self._intake.transaction() as db:
            row = db.execute(self._sql["insert_user"], params).fetchone()
            if row is None:
                raise StoreError(f"there is a user {name!r} already",
                                 fix=f"pick another name, or `gateway users passwd {name}`")
            self._log(db, "user", name, "created", actor, f"role {role.value}")
        return user_from_row(row)

    def get_user(self, name: str) -> User | None:
        row = self._intake.one(self._sql["get_user"], {"name": name})
        return user_from_row(row) if row is not None else None

    def list_users(self) -> list[User]:
        return self._read("list_users", {}, user_from_row)

    def update_user(
        self,
        name: str,
        *,
        actor: str,
        password_hash: str | None = None,
        role: Role | None = None,
        disabled: bool | None = None,
    ) -> User:
        params = {"name": name, "password_hash": password_hash, "role": role and role.value,
                  "disabled": disabled, "now": time.time()}
        changes = [what for what, given in (
            ("password changed", password_hash is not None),
            (f"role {role and role.value}", role is not None),
            ("disabled" if disabled else "enabled", disabled is not None),
        ) if given]
        with self._intake.transaction() as db:
            row = db.execute(self._sql["update_user"], params).fetchone()
            if row is None:
                raise NotFound("user", name)
            if password_hash is not None or disabled:
                list(db.execute(self._sql["delete_user_sessions"], {"name": name}))
            self._log(db, "user", name, "updated", actor, ", ".join(changes))
        return user_from_row(row)

    def add_session(self, token_sha256: str, user_name: str, csrf_token: str) -> ConsoleSession:
        params = {"token_sha256": token_sha256, "user_name": user_name,
                  "csrf_token": csrf_token, "now": time.time()}
        with self._intake.transaction() as db:
            row = returned_row(db.execute(self._sql["insert_session"], params), "insert_session")
            self._log(db, "user", user_name, "signed-in", f"console:{user_name}", "")
        return session_from_row(row)

    def touch_session(
        self, token_sha256: str, *, idle_seconds: float, max_seconds: float
    ) -> ConsoleSession | None:
        now = time.time()
        stale = {"idle_before": now - idle_seconds, "created_before": now - max_seconds}
        with self._intake.transaction() as db:
            list(db.execute(self._sql["delete_stale_sessions"], stale))
            params = {"token_sha256": token_sha256, "now": now}
            row = db.execute(self._sql["touch_session"], params).fetchone()
        return session_from_row(row) if row is not None else None

    def end_session(self, token_sha256: str) -> None:
        self._intake.write_one(self._sql["delete_session"], {"token_sha256": token_sha256})

