"""Fixtures for the message store tests: every store test runs on SQLite and on PostgreSQL.

PostgreSQL is the real server on 127.0.0.1:5432 (user postgres). One throwaway database with a
random name is created per test session and dropped at the end; tables are emptied between
tests. Without the server the PostgreSQL half skips locally and fails under CI=true.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from gateway.store import MessageStore, open_store

PG_ADMIN = os.environ.get("GATEWAY_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite", "postgres"]


def _postgres_up() -> bool:
    try:
        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this session."""
    from conftest import require  # not at the top: conftest imports this module

    require(
        _postgres_up(),
        f"PostgreSQL ({PG_ADMIN})",
        "start PostgreSQL on 127.0.0.1:5432 with trust auth for user postgres, "
        "or set GATEWAY_TEST_PG to an admin URL",
    )
    name = f"gateway_test_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    open_store(url, migrate=True).close()  # `gateway migrate` once
    yield url
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def empty_postgres(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename <> 'schema_version'"
            )
        ]
        conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated store of each back end."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/var/gateway.db"
    url = request.getfixturevalue("pg_url")
    empty_postgres(url)
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[MessageStore]:
    with open_store(store_url) as opened:
        yield opened
