"""The claims ledger on the embedded store's SQLite database.

Its own connection (``synchronous=NORMAL``): the ledger can always be rebuilt from the kept
payloads, and the pipeline's ``routed`` commit that follows an ingest is ``FULL``, which makes
the ledger's earlier WAL frames durable too. Batches are ``executemany`` under
``BEGIN IMMEDIATE``; reads run in one deferred transaction, which in WAL mode is a snapshot
that never blocks the daemon's writers.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, cast

from gateway.reconcile.ledger import Ledger, LedgerReads, date_fields
from gateway.store.sqlfiles import queries
from gateway.store.sqlite_connection import SQLiteConnection

_Q = queries("sqlite", "ledger")


class SQLiteLedger(Ledger):
    def __init__(self, path: Path | str) -> None:
        super().__init__(_Q)
        self._connection = SQLiteConnection(Path(path), "NORMAL")

    def _insert(self, name: str, rows: Sequence[tuple[Any, ...]]) -> None:
        dates = date_fields(type(rows[0])) if rows else ()
        values = []
        for row in rows:
            copy = list(row)
            for i in dates:
                if copy[i] is not None:
                    copy[i] = copy[i].isoformat()  # the columns hold ISO text
            values.append(copy)
        with self._connection.transaction():  # the transaction's connection is .db
            self._connection.db.executemany(self._sql[f"insert_{name}"], values)

    def _execute(self, names: Sequence[str], params: Mapping[str, Any]) -> None:
        with self._connection.transaction() as db:
            for name in names:
                db.execute(self._sql[name], {**_params(params), "now": time.time()})

    def _one(self, name: str, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        row = self._connection.one(self._sql[name], _params(params))
        return None if row is None else tuple(cast(sqlite3.Row, row))

    @contextmanager
    def reading(self) -> Iterator[LedgerReads]:
        connection = self._connection
        with connection.lock:
            connection.db.execute("BEGIN")
            try:
                yield _Reads(connection, self._sql)
            finally:
                connection.db.execute("COMMIT")

    def close(self) -> None:
        self._connection.close()


class _Reads(LedgerReads):
    def __init__(self, connection: SQLiteConnection, sql: Mapping[str, str]) -> None:
        self._connection = connection
        self._sql = sql

    def rows(self, name: str, params: Mapping[str, Any]) -> Iterator[tuple[Any, ...]]:
        cursor = self._connection.db.cursor()
        cursor.row_factory = None  # plain tuples: a million rows, no sqlite3.Row per row
        try:
            cursor.execute(self._sql[name], _params(params))
            while batch := cursor.fetchmany(2_000):
                yield from batch
        finally:
            cursor.close()


def _params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Dates as the ISO text the columns hold."""
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in params.items()}
