"""A store as today's main (schema 001-004, before issue 13) left it, for the migration tests.

The old schema is built from the very migration files main shipped (001-004 are never
edited once released), applied the way main's ``migrate()`` applied them, and recorded in
``schema_version`` the same way.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from pathlib import Path

import psycopg

from gateway.store.sqlfiles import migrations
from gateway.store.sqlite_connection import _statements

MAIN_SCHEMA = 4  # the last migration on main before issue 13


def old_sqlite_store(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY,"
               " name TEXT NOT NULL, applied_at REAL NOT NULL)")
    for migration in migrations("sqlite"):
        if migration.version <= MAIN_SCHEMA:
            for statement in _statements(migration.sql):
                db.execute(statement)
            db.execute("INSERT INTO schema_version VALUES (?, ?, ?)",
                       (migration.version, migration.name, time.time()))
    db.close()


def old_postgres_store(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("CREATE TABLE schema_version (version integer PRIMARY KEY,"
                   " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
        for migration in migrations("postgres"):
            if migration.version <= MAIN_SCHEMA:
                db.execute(migration.sql.encode())
                db.execute("INSERT INTO schema_version (version, name) VALUES (%s, %s)",
                           (migration.version, migration.name))


def blank_database() -> tuple[str, str]:
    """A new, empty PostgreSQL database (skip or fail as the other PostgreSQL tests do);
    returns its URL and the admin URL that drops it."""
    from conftest import require
    from store_backends import PG_ADMIN, _postgres_up

    require(_postgres_up(), f"PostgreSQL ({PG_ADMIN})",
            "start PostgreSQL on 127.0.0.1:5432 with trust auth for user postgres")
    name = f"gateway_migrate_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", PG_ADMIN


def drop_database(url: str, admin_url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
