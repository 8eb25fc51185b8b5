"""Store outages heal by themselves (issue 10, defect 10): PostgreSQL connections killed
under a running daemon — its files are taken up again once the server answers, without a
restart or a reload. Only this test session's throwaway database is touched."""

from __future__ import annotations

import shutil
import time

import psycopg
from store_backends import PG_ADMIN, empty_postgres, pg_url  # noqa: F401 (fixture)

from gateway.config.settings import load_settings
from gateway.daemon.loop import Daemon
from gateway.ops.demo import folder_workspace
from gateway.store.models import FileStatus


def _kill_connections(url: str) -> int:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        rows = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
        return len(rows.fetchall())


def test_defect_10_killed_postgres_connections_heal_without_a_restart(tmp_path, pg_url):  # noqa: F811
    empty_postgres(pg_url)
    config, _samples = folder_workspace(tmp_path / "ws")
    config.write_text(config.read_text().replace('store = "sqlite:///data/gateway.db"',
                                                 f'store = "{pg_url}"'))
    drop = config.parent / "pbm" / "outbound"
    later = tmp_path / "later"
    later.mkdir()
    for name in ("era-20260105-central.835",):
        shutil.move(drop / name, later / name)
    daemon = Daemon(load_settings(config))
    try:
        daemon.cycle(force=True)
        assert _kill_connections(pg_url) >= 1  # the daemon's own connection among them
        shutil.move(later / "era-20260105-central.835", drop / "era-20260105-central.835")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            daemon._guarded_cycle()  # what the loop runs: an outage is waited out
            files = {f.original_name: f.status for f in daemon.store.list_files()}
            if files.get("era-20260105-central.835") is FileStatus.ROUTED:
                break
        assert files["era-20260105-central.835"] is FileStatus.ROUTED
        assert FileStatus.FAILED not in files.values()
        assert daemon.reload_refused is None and daemon._reload.is_set() is False
    finally:
        daemon.close()
