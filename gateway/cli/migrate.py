"""``gateway migrate``: bring the store's schema to the version this gateway needs.

Nothing else changes a schema any more: the daemon, ``check`` and the operator commands
refuse a store at an older version and name this command. Run it once per upgrade, with the
daemons stopped (SQLite: it refuses while a daemon holds the store), after a backup. It is
idempotent (a current store is left as it is) and locked: on PostgreSQL concurrent runs queue
on an advisory lock and the later ones find nothing to do; on SQLite the migration holds the
store's exclusive lock and the database's write lock.
"""

from __future__ import annotations

import argparse

from gateway.cli.codes import EXIT_OK
from gateway.cli.operator import config_path, store_options
from gateway.config.settings import load_settings
from gateway.store import open_store, store_url
from gateway.store.sqlfiles import migrations


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "migrate", help="apply the store's pending schema migrations",
        parents=[store_options()],
        description="Apply the pending schema migrations (sql/<backend>/NNN_*.sql) of the "
        "store named by --config (its gateway.toml) or --store, in one transaction. Safe to run "
        "again and from several hosts at once. Stop the daemons and back up first.")
    parser.set_defaults(handler=run_migrate)


def run_migrate(args: argparse.Namespace) -> int:
    path = config_path(args)
    url = load_settings(path).store_url if path else store_url(args.store)
    with open_store(url, migrate=False, create=True, check=False) as store:
        lock = store.exclusive("gateway migrate")
        try:
            before, after = store.upgrade()
        finally:
            lock.release()
        applied = [f"{m.version:03d}_{m.name}" for m in migrations(store.backend)
                   if m.version in store.upgraded()]  # a hole below the top filled, too
        if applied:
            print(f"migrated {store!r}: schema version {before} -> {after} "
                  f"(applied {', '.join(applied)})")
        else:
            print(f"{store!r} is at schema version {after}: nothing to do")
    return EXIT_OK
