"""Which ledger a store has: the reconciliation ledger of its back end, on its own connection.

Apart from :mod:`gateway.reconcile.ledger` because both back ends build on that module: the
choice of one sits above them, so nothing imports in a circle. The back ends are imported
when chosen, as :func:`gateway.store.open_store` does, so psycopg loads only for PostgreSQL.
"""

from __future__ import annotations

from gateway.reconcile.ledger import Ledger
from gateway.store.base import MessageStore


def open_ledger(store: MessageStore) -> Ledger:
    """The ledger in ``store``'s database, on a connection of its own."""
    from gateway.store.postgres import PostgresStore
    from gateway.store.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        from gateway.reconcile.ledger_sqlite import SQLiteLedger

        return SQLiteLedger(store.path)
    if isinstance(store, PostgresStore):
        from gateway.reconcile.ledger_postgres import PostgresLedger

        return PostgresLedger(store.url)
    raise TypeError(f"no ledger for {store!r}")
