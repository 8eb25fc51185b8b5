"""The SQL of each back end, read from ``sql/<backend>/``.

``NNN_name.sql`` files are the migrations, applied in order and recorded in the
``schema_version`` table. ``queries.sql`` holds the statements the store runs (``ledger.sql``
those of the claims ledger), each introduced
by a ``-- name: NAME`` line, so a reviewer reads the SQL as SQL (procrastinate does the same).
"""

from __future__ import annotations

import re
from collections.abc import Collection
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


def queries(backend: str, *names: str) -> dict[str, str]:
    """The named statements of ``backend``'s statement files ``<name>.sql``; by default the
    message store's own: queries.sql (the store and its queue), console.sql (operator
    searches, accounts, partner pauses) and payments.sql (duplicate payments).
    ``queries(backend, "alerts")``: the alerts', ``queries(backend, "ledger")``: the claims
    ledger's."""
    found: dict[str, str] = {}
    for name in names or ("queries", "console", "payments"):
        text = files("gateway.store").joinpath("sql", backend, f"{name}.sql").read_text("utf-8")
        parts = _NAME.split(text)
        # parts = [preamble, name1, body1, name2, body2, ...]
        for key, body in zip(parts[1::2], parts[2::2], strict=True):
            if key in found:
                raise StoreError(f"statement {key!r} is named twice", where=f"{name}.sql",
                                 fix="give every statement of a back end its own name")
            found[key] = body.strip().rstrip(";")
    return found


def latest(backend: str) -> int:
    """The schema version this gateway's migrations of ``backend`` lead to."""
    known = migrations(backend)
    return known[-1].version if known else 0


def pending(backend: str, applied: Collection[int], where: str) -> list[Migration]:
    """The migrations a database that has ``applied`` these versions lacks, lowest first —
    every missing one, not only those above the highest applied: a migration added below
    the top (a number left free, like 008, then taken; a branch merged late) is applied too.
    Refuses a database newer than this gateway."""
    known = migrations(backend)
    top = max(applied, default=0)
    if known and top > known[-1].version:
        raise StoreError(
            f"the database is at schema version {top}, newer than this gateway knows "
            f"({known[-1].version})",
            where=where,
            fix="upgrade the gateway to the version that created this database",
        )
    return [migration for migration in known if migration.version not in applied]
