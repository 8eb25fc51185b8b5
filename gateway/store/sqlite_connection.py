"""How the embedded store talks to SQLite: WAL, BEGIN IMMEDIATE, busy timeout, migrations.

Following shared/reference/transport-and-queue.md: ``isolation_level=None`` for explicit
transactions, ``BEGIN IMMEDIATE`` for every read-then-write (a deferred transaction that
upgrades to a writer can fail with SQLITE_BUSY without honouring the busy timeout), a busy
timeout of 10 s, and ``synchronous`` chosen per connection by the store.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gateway.errors import StoreError, StoreUnavailable
from gateway.store.connection import Transaction
from gateway.store.models import Row
from gateway.store.sqlfiles import pending

BUSY_TIMEOUT_MS = 10_000


class SQLiteConnection:
    """One sqlite3 connection, the lock that serialises it, and its transaction helpers."""

    def __init__(self, path: Path, synchronous: str) -> None:
        self.path = str(path)
        self.upgraded: list[int] = []  # the versions the last upgrade() applied
        self.db = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
        )
        self.db.row_factory = sqlite3.Row
        self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute(f"PRAGMA synchronous = {synchronous}")
        self.db.execute("PRAGMA foreign_keys = ON")
        self.lock = threading.Lock()

    @property
    def _rows(self) -> Transaction:
        """The connection, typed by the rows it returns: sqlite3 types them Any, since the
        row factory is chosen at run time; this connection's is ``sqlite3.Row``."""
        return self.db

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A read-then-write transaction holding the write lock from its first statement."""
        with self.lock, self._errors():
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self._rows
                self.db.execute("COMMIT")
            except BaseException:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                raise

    def one(self, sql: str, params: Mapping[str, Any]) -> Row | None:
        with self.lock, self._errors():
            return self._rows.execute(sql, params).fetchone()

    def all(self, sql: str, params: Mapping[str, Any]) -> Sequence[Row]:
        with self.lock, self._errors():
            return self._rows.execute(sql, params).fetchall()

    def write_one(self, sql: str, params: Mapping[str, Any]) -> Row | None:
        """One writing statement in its own BEGIN IMMEDIATE transaction; its first row."""
        with self.transaction() as db:
            return db.execute(sql, params).fetchone()

    def schema_version(self) -> int:
        """The version in force, 0 for a database no migration has touched; changes nothing."""
        with self.lock, self._errors():
            known = self.db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
            ).fetchone()
            if known is None:
                return 0
            return int(self.db.execute(
                "SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0])

    def migrate(self) -> int:
        return self.upgrade()[1]

    def upgrade(self) -> tuple[int, int]:
        """Apply the pending migrations in one IMMEDIATE transaction (so two processes starting
        together do not both apply them); the schema versions before and after."""
        with self.transaction():
            db = self.db  # migration scripts and positional parameters: sqlite3 itself
            db.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY,"
                " name TEXT NOT NULL, applied_at REAL NOT NULL)"
            )
            applied = {row[0] for row in db.execute("SELECT version FROM schema_version")}
            version: int = max(applied, default=0)
            before = version
            done: list[int] = []
            for migration in pending("sqlite", applied, self.path):
                for statement in _statements(migration.sql):
                    db.execute(statement)
                db.execute(
                    "INSERT INTO schema_version VALUES (?, ?, ?)",
                    (migration.version, migration.name, time.time()),
                )
                version = max(version, migration.version)
                done.append(migration.version)
        self.upgraded = done
        return before, version

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """SQLite's operational errors (locked past the busy timeout, disk full, I/O) as
        StoreError: the operator sees one line saying what and where, not a traceback."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(
                f"SQLite failed: {exc}",
                where=self.path,
                fix="the operation was not done; if the database stays locked, look for a "
                "process holding a long transaction; check free disk space",
            ) from exc

    def close(self) -> None:
        with self.lock:
            self.db.close()


def _statements(script: str) -> Iterator[str]:
    """Split a migration into statements (triggers contain ``;`` inside BEGIN ... END)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer
            buffer = ""
    if buffer.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in buffer.splitlines()
    ):
        raise StoreError("a migration ends with an incomplete statement", where=buffer[:80])
