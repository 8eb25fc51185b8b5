"""How the shared store talks to PostgreSQL: autocommit, short transactions, reconnection.

Every statement runs in autocommit unless a ``transaction()`` is asked for, so the queue
statements are one short statement each. ``synchronous_commit`` is chosen per connection by the
store. A connection the server dropped (restart, idle timeout) is reopened on the next call;
the call that found it dropped fails with a StoreError.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import DictRow, dict_row

from gateway.errors import StoreUnavailable
from gateway.store.sqlfiles import pending


def describe_url(url: str) -> str:
    """host:port/dbname, never the password."""
    info = conninfo_to_dict(url)
    return f"{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"


class PostgresConnection:
    """One psycopg connection (autocommit), the lock that serialises it, reconnection."""

    def __init__(self, url: str, *, synchronous_commit: bool) -> None:
        self.url = url
        self.upgraded: list[int] = []  # the versions the last upgrade() applied
        self.synchronous_commit = synchronous_commit
        self.lock = threading.Lock()
        self._deferring = threading.local()  # threads inside deferred_commits()
        self.db = self._connect()

    def _connect(self) -> psycopg.Connection[DictRow]:
        try:
            db = psycopg.connect(
                self.url, autocommit=True, row_factory=dict_row, connect_timeout=10
            )
        except psycopg.OperationalError as exc:
            raise self._failed(
                "cannot connect to PostgreSQL",
                exc,
                fix="check that the server runs and the store URL (--store / GATEWAY_STORE)",
            ) from None
        if not self.synchronous_commit:
            db.execute("SET synchronous_commit = off")
        return db

    @contextmanager
    def session(self) -> Iterator[psycopg.Connection[DictRow]]:
        with self.lock:
            if self.db.closed or self.db.broken:
                self.db = self._connect()
            try:
                yield self.db
            except psycopg.OperationalError as exc:
                raise self._failed(
                    "PostgreSQL failed",
                    exc,
                    fix="the operation was not done; it is retried when the server is back",
                ) from exc

    def _failed(self, what: str, exc: psycopg.Error, *, fix: str) -> StoreUnavailable:
        """The server's error as one line naming the database (never the password)."""
        return StoreUnavailable(
            f"{what}: {str(exc).strip().splitlines()[0]}", where=describe_url(self.url), fix=fix
        )

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[DictRow]]:
        with self.session() as db, db.transaction():
            if self.synchronous_commit and getattr(self._deferring, "on", False):
                db.execute("SET LOCAL synchronous_commit = off")
            yield db

    @contextmanager
    def deferred_commits(self) -> Iterator[None]:
        """This thread's transactions commit without waiting for the flush (the store's
        ``deferred_commits``); other threads' commits are not touched."""
        self._deferring.on = True
        try:
            yield
        finally:
            self._deferring.on = False

    def one(self, sql: str, params: Mapping[str, Any]) -> DictRow | None:
        with self.session() as db:
            return db.execute(sql, params).fetchone()

    def all(self, sql: str, params: Mapping[str, Any]) -> Sequence[DictRow]:
        with self.session() as db:
            return db.execute(sql, params).fetchall()

    def write_one(self, sql: str, params: Mapping[str, Any]) -> DictRow | None:
        """One writing statement; in autocommit it is its own transaction, with no BEGIN and
        COMMIT round trips. Its first row."""
        return self.one(sql, params)

    def schema_version(self) -> int:
        """The version in force, 0 for a database no migration has touched; changes nothing."""
        row = self.one("SELECT to_regclass('schema_version') IS NOT NULL AS known", {})
        if not row or not row["known"]:
            return 0
        found = self.one("SELECT coalesce(max(version), 0) AS v FROM schema_version", {})
        return int(found["v"]) if found else 0

    def migrate(self) -> int:
        return self.upgrade()[1]

    def upgrade(self) -> tuple[int, int]:
        """Apply the pending migrations in one transaction; the schema versions before and
        after (read under the lock, so of concurrent runs only one sees a change)."""
        with self.transaction() as db:
            # One daemon migrates; the others wait here and then find nothing to do.
            db.execute("SELECT pg_advisory_xact_lock(hashtext('psao-gateway-migrate'))")
            db.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY,"
                " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            rows = db.execute("SELECT version FROM schema_version").fetchall()
            applied = {row["version"] for row in rows}
            version = before = max(applied, default=0)
            done: list[int] = []
            for migration in pending("postgres", applied, describe_url(self.url)):
                db.execute(migration.sql.encode())  # several statements, no parameters
                db.execute(
                    "INSERT INTO schema_version (version, name) VALUES (%s, %s)",
                    (migration.version, migration.name),
                )
                version = max(version, migration.version)
                done.append(migration.version)
        self.upgraded = done
        return before, version

    def close(self) -> None:
        with self.lock:
            self.db.close()
