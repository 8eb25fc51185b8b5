"""``gateway migrate`` applies every missing migration, not only those above the highest
applied: 008 is a hole in the numbering, and a branch merged late may bring a number below
the top (issue 13). Main's ``pending()`` took ``version > max(applied)`` and skipped them."""

from __future__ import annotations

import sqlite3
import time

from gateway.cli import main
from gateway.store.sqlfiles import latest, migrations, pending
from gateway.store.sqlite_connection import _statements


def test_pending_is_every_version_not_applied():
    known = [m.version for m in migrations("sqlite")]
    assert 8 not in known  # the hole stays a hole: nothing to apply for it
    applied = set(known) - {7, 9}
    assert [m.version for m in pending("sqlite", applied, "test")] == [7, 9]
    assert pending("postgres", set(known), "test") == []


def test_migrate_applies_a_migration_below_the_highest_applied(tmp_path, capsys):
    path = tmp_path / "gateway.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY,"
               " name TEXT NOT NULL, applied_at REAL NOT NULL)")
    for migration in migrations("sqlite"):
        if migration.version != 9:  # a store whose branch had 010 before 009 landed
            for statement in _statements(migration.sql):
                db.execute(statement)
            db.execute("INSERT INTO schema_version VALUES (?, ?, ?)",
                       (migration.version, migration.name, time.time()))
    db.close()
    assert main(["migrate", "--store", f"sqlite:///{path}"]) == 0
    assert "applied 009_payment_keys)" in capsys.readouterr().out
    db = sqlite3.connect(path)
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    versions = {row[0] for row in db.execute("SELECT version FROM schema_version")}
    db.close()
    assert "payment_keys" in tables
    assert versions == {m.version for m in migrations("sqlite")} and max(versions) == latest(
        "sqlite")
    assert main(["migrate", "--store", f"sqlite:///{path}"]) == 0  # then nothing to do
    assert "nothing to do" in capsys.readouterr().out
