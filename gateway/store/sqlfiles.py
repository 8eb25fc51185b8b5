"""The SQL of each back end, read from ``sql/<backend>/``.

``NNN_name.sql`` files are the migrations, applied in order and recorded in the
``schema_version`` table. ``queries.sql`` holds the statements the store runs (``ledger.sql``
those of the claims ledger), each introduced
by a ``-- name: NAME`` line, so a reviewer reads the SQL as SQL (procrastinate does the same).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files

from gateway.errors import StoreError

_MIGRATION = re.compile(r"(\d{3})_([a-z0-9_]+)\.sql")
_NAME = re.compile(r"^-- name: ([a-z_]+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations(backend: str) -> list[Migration]:
    """Every migration of ``backend`` ("sqlite" or "postgres"), lowest version first."""
    found = []
    for entry in files("gateway.store").joinpath("sql", backend).iterdir():
        match = _MIGRATION.fullmatch(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda migration: migration.version)


def queries(backend: str, file: str = "queries.sql") -> dict[str, str]:
    """The named statements of ``backend``'s queries.sql (or of another statement file of
    that back end, such as the claims ledger's ``ledger.sql``)."""
    text = files("gateway.store").joinpath("sql", backend, file).read_text("utf-8")
    parts = _NAME.split(text)
    # parts = [preamble, name1, body1, name2, body2, ...]
    return {
        name: body.strip().rstrip(";") for name, body in zip(parts[1::2], parts[2::2], strict=True)
    }


def pending(backend: str, version: int, where: str) -> list[Migration]:
    """The migrations to apply to a database at ``version``; refuses a newer database."""
    known = migrations(backend)
    if known and version > known[-1].version:
        raise StoreError(
            f"the database is at schema version {version}, newer than this gateway knows "
            f"({known[-1].version})",
            where=where,
            fix="upgrade the gateway to the version that created this database",
        )
    return [migration for migration in known if migration.version > version]
