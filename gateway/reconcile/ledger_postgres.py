"""The claims ledger on the shared store's PostgreSQL database.

Its own autocommit connection, like the store's. Batches are ``COPY ... FROM STDIN`` in one
transaction each, sent as one block of COPY text (:mod:`gateway.reconcile.copy_text`) from a
thread of their own (:mod:`gateway.reconcile.copier`: the server inserts one batch while the
parse makes the next); every other statement waits for the batches before it;
reads run in one ``REPEATABLE READ READ ONLY`` transaction with server-side (named)
cursors, so three streams of a million rows each are merged in bounded memory and all see
the same snapshot.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import DictRow, tuple_row

from gateway.reconcile.copier import Copier
from gateway.reconcile.copy_text import copy_text
from gateway.reconcile.ledger import Ledger, LedgerReads
from gateway.store.postgres_connection import PostgresConnection
from gateway.store.sqlfiles import queries

_Q = queries("postgres", "ledger")
_CURSORS = itertools.count()


class PostgresLedger(Ledger):
    def __init__(self, url: str) -> None:
        super().__init__(_Q)
        self._connection = PostgresConnection(url, synchronous_commit=True)
        self._copier = Copier(self._copy)

    def _insert(self, name: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """One batch, formatted here and sent by the copier's thread."""
        self._copier.send(self._sql[f"copy_{name}"], copy_text(rows))

    def _copy(self, statement: str, block: str) -> None:
        """One batch, committed without waiting for the disk: the file stays ``ingesting``
        (invisible) until the synchronous commit that completes it flushes every batch; a
        crash before that deletes and rewrites them."""
        with self._connection.transaction() as db:
            db.execute("SET LOCAL synchronous_commit = off")
            with db.cursor().copy(statement) as copy:
                copy.write(block)  # one block, not a write_row per row

    def _execute(self, names: Sequence[str], params: Mapping[str, Any]) -> None:
        self._copier.drain()
        with self._connection.transaction() as db:
            for name in names:
                db.execute(self._sql[name], params)

    def _one(self, name: str, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        self._copier.drain()
        row = self._connection.one(self._sql[name], params)
        return None if row is None else tuple(row.values())

    @contextmanager
    def reading(self) -> Iterator[LedgerReads]:
        self._copier.drain()
        with self._connection.transaction() as db:
            db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield _Reads(db, self._sql)

    def close(self) -> None:
        try:
            self._copier.close()
        finally:
            self._connection.close()


class _Reads(LedgerReads):
    def __init__(self, db: psycopg.Connection[DictRow], sql: Mapping[str, str]) -> None:
        self._db = db
        self._sql = sql

    def rows(self, name: str, params: Mapping[str, Any]) -> Iterator[tuple[Any, ...]]:
        with self._db.cursor(name=f"ledger_{next(_CURSORS)}", row_factory=tuple_row) as cursor:
            cursor.itersize = 2_000
            cursor.execute(self._sql[name], params)
            yield from cursor
