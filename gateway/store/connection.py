"""What the shared store logic (sqlstore.py) needs of a back end's database connection.

sqlite_connection.py and postgres_connection.py each provide it; they differ in how they keep
a write atomic (SQLite: ``BEGIN IMMEDIATE`` under a lock; PostgreSQL: autocommit, and a
transaction only when asked for), in durability settings and in migrations, never in what a
statement means to the store.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from gateway.errors import StoreError
from gateway.store.models import Row


class Cursor(Protocol):
    def fetchone(self) -> Row | None: ...

    def fetchall(self) -> Sequence[Row]: ...

    def __iter__(self) -> Iterator[Row]: ...


class Transaction(Protocol):
    """An open transaction: a ``sqlite3.Connection`` or a ``psycopg.Connection``."""

    def execute(self, sql: str, params: Mapping[str, Any], /) -> Cursor: ...


class Connection(Protocol):
    """One database connection of a back end (a store holds two: intake and queue)."""

    def transaction(self) -> AbstractContextManager[Transaction]:
        """A read-then-write transaction: all of it commits or none of it."""
        ...

    def one(self, sql: str, params: Mapping[str, Any]) -> Row | None: ...

    def all(self, sql: str, params: Mapping[str, Any]) -> Sequence[Row]: ...

    def write_one(self, sql: str, params: Mapping[str, Any]) -> Row | None:
        """One writing statement, atomically; its first row."""
        ...

    def schema_version(self) -> int:
        """The schema version in force (0: none), without changing anything."""
        ...

    upgraded: list[int]  # the versions the last upgrade() applied

    def migrate(self) -> int:
        """Apply the back end's pending migrations; the schema version now in force."""
        ...

    def upgrade(self) -> tuple[int, int]:
        """Apply the pending migrations; the schema versions before and after."""
        ...

    def close(self) -> None: ...


def returned_row(cursor: Cursor, statement: str) -> Row:
    """The row of a statement that always returns one (``INSERT ... RETURNING`` of a new row,
    the lookup of a row this transaction has just seen). Should the database disagree, the
    error names the statement instead of failing later on ``None``."""
    row = cursor.fetchone()
    if row is None:
        raise StoreError(
            f"the store's statement {statement!r} returned no row",
            fix="the schema and queries.sql disagree: check the migrations applied",
        )
    return row
