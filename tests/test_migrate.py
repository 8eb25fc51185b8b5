"""Explicit schema migration (issue 13): ``gateway migrate`` is the only thing that changes an
existing store's schema; the daemon and ``check`` refuse an old one and name the command."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import psycopg
import pytest
from daemon_support import REPO, outputs
from migrate_support import (
    MAIN_SCHEMA,
    blank_database,
    drop_database,
    old_postgres_store,
    old_sqlite_store,
)

from gateway.cli import main
from gateway.config.settings import load_settings
from gateway.daemon.loop import Daemon
from gateway.ops.demo import folder_workspace
from gateway.store import SchemaOutdated, open_configured, open_store
from gateway.store.sqlfiles import latest, migrations


@pytest.fixture
def blank_pg() -> Iterator[str]:
    url, admin = blank_database()
    yield url
    drop_database(url, admin)


@pytest.fixture(params=["sqlite", "postgres"])
def old_workspace(request, tmp_path):
    """A demo workspace whose store was made by main's schema (001-004)."""
    config, samples = folder_workspace(tmp_path / "ws")
    if request.param == "sqlite":
        old_sqlite_store(tmp_path / "ws" / "data" / "gateway.db")
    else:
        url = request.getfixturevalue("blank_pg")
        old_postgres_store(url)
        text = config.read_text().replace('store = "sqlite:///data/gateway.db"',
                                          f'store = "{url}"')
        config.write_text(text)
    return tmp_path / "ws", config, samples


def version_of(config) -> int:
    with open_configured(load_settings(config), check=False) as store:
        return store.schema_version()


def test_a_daemon_on_main_schema_refuses_to_start_and_names_the_command(old_workspace):
    root, config, _ = old_workspace
    run = subprocess.run([sys.executable, "-m", "gateway", "run", "--once", "--config",
                          str(config)], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert run.returncode == 2, run.stderr
    assert f"schema version {MAIN_SCHEMA}" in run.stderr and "gateway migrate" in run.stderr
    assert version_of(config) == MAIN_SCHEMA  # refused, and changed nothing
    assert not (root / "pharmacies").exists()


def test_check_no_longer_migrates(old_workspace, capsys):
    _, config, _ = old_workspace
    assert main(["check", "--offline", "--config", str(config)]) == 2
    assert "gateway migrate" in capsys.readouterr().err
    assert version_of(config) == MAIN_SCHEMA


def test_migrate_brings_main_store_up_then_the_daemon_works(old_workspace, capsys):
    root, config, samples = old_workspace
    assert main(["migrate", "--config", str(config)]) == 0
    said = capsys.readouterr().out
    assert f"schema version {MAIN_SCHEMA} -> {latest('sqlite')}" in said
    assert "006_control_numbers" in said
    assert main(["migrate", "--config", str(config)]) == 0  # idempotent
    assert "nothing to do" in capsys.readouterr().out
    assert Daemon(load_settings(config)).run(once=True) == 0
    delivered = outputs(root / "pharmacies")
    assert len([name for name in delivered if name.endswith(".835")]) == \
        len(samples.pharmacies)


def test_concurrent_migrations_apply_each_version_once(blank_pg):
    """Three `gateway migrate` at once on one empty database: all succeed, each migration is
    applied once (the advisory lock queues them; the later ones find nothing to do)."""
    runs = [subprocess.Popen([sys.executable, "-m", "gateway", "migrate", "--store", blank_pg],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
            for _ in range(3)]
    results = [(run.wait(timeout=120), *run.communicate()) for run in runs]
    assert [code for code, _, _ in results] == [0, 0, 0], results
    assert sum("migrated" in out for _, out, _ in results) == 1
    with psycopg.connect(blank_pg) as db:
        versions = [row[0] for row in db.execute("SELECT version FROM schema_version ORDER BY 1")]
    assert versions == [migration.version for migration in migrations("postgres")]


def test_open_store_refuses_an_old_schema_unless_asked_to_migrate(tmp_path):
    path = tmp_path / "old.db"
    old_sqlite_store(path)
    with pytest.raises(SchemaOutdated, match="gateway migrate"):
        open_store(f"sqlite:///{path}")
    with open_store(f"sqlite:///{path}", migrate=True) as store:
        assert store.schema_version() == latest("sqlite")
