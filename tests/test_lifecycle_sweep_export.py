"""The sweep of leftovers from killed runs, ``gateway prune`` and ``gateway export``, on
SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from datetime import UTC, datetime, timedelta

from lifecycle_support import delivered_file, payload_exists

from gateway.cli import main
from gateway.cli.codes import EXIT_OK
from gateway.config.retention import RetentionPolicy
from gateway.lifecycle.export import export_file, export_pharmacy
from gateway.lifecycle.prune import prune
from gateway.lifecycle.sweep import sweep
from gateway.store import open_store

DAY = 86400


def _age(path, seconds):
    old = time.time() - seconds
    os.utime(path, (old, old), follow_symlinks=False)


def test_sweep_removes_only_old_leftovers_and_orphans(store, tmp_path):
    kept = delivered_file(store, tmp_path, "kept.835", parts=1)
    inbox = tmp_path / "ph" / "inbox"
    inbox.mkdir(parents=True)
    old_part, new_part = inbox / ".gateway-abc.part", inbox / ".gateway-def.part"
    delivered = inbox / "kept.835.0"
    for path in (old_part, new_part, delivered):
        path.write_bytes(b"x" * 10)
    _age(old_part, 2 * DAY)
    _age(delivered, 2 * DAY)  # a delivered file is never a leftover, however old
    work = tmp_path / "work"
    (work / "split-1").mkdir(parents=True)
    (work / ".fetch-1.part").write_bytes(b"y")
    (work / ".fetch-2.part").write_bytes(b"z")
    _age(work / "split-1", 2 * DAY)
    _age(work / ".fetch-1.part", 2 * DAY)
    orphan = store.put_payload(io.BytesIO(b"bytes whose row never came"))
    day_ago = datetime.now(UTC) - timedelta(days=1)
    dry = sweep(store, [inbox], work, day_ago, dry_run=True)
    assert dry.temp_files == [old_part] and dry.orphans == []  # the orphan is too young
    assert sorted(p.name for p in dry.work_entries) == [".fetch-1.part", "split-1"]
    assert old_part.exists()
    done = sweep(store, [inbox], work, day_ago)
    assert len(done.work_entries) == 2 and done.bytes > 0
    assert not old_part.exists() and delivered.exists() and new_part.exists()
    assert {p.name for p in work.iterdir()} == {".fetch-2.part"}
    later = sweep(store, [], None, datetime.now(UTC) + timedelta(seconds=5))
    assert [sha for sha, _ in later.orphans] == [orphan]
    assert not payload_exists(store, orphan)
    assert payload_exists(store, store.get_file(kept).sha256)


def test_export_of_a_file_and_of_a_pharmacy(store, tmp_path):
    file_id = delivered_file(store, tmp_path, "era.835", parts=2)
    other = delivered_file(store, tmp_path, "era2.835", parts=1, pharmacy="1999999992")
    done = export_file(store, file_id, tmp_path / "f.zip")
    with zipfile.ZipFile(done.path) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("manifest.json"))
        trail = json.loads(archive.read(f"F{file_id}/trail.json"))
        raw = archive.read(f"F{file_id}/raw/{store.get_file(file_id).sha256}")
    assert raw == (tmp_path / "era.835").read_bytes()
    assert f"F{file_id}/summary.txt" in names and len(manifest["files"]) == 1
    assert len(trail["deliveries"]) == 2 and {e["action"] for e in trail["events"]} >= {
        "received", "routed"}
    day = datetime.now(UTC)
    mine = export_pharmacy(store, "1999999992", day - timedelta(days=1),
                           day + timedelta(days=1), tmp_path / "p.zip")
    with zipfile.ZipFile(mine.path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        names = archive.namelist()
    assert [f["id"] for f in manifest["files"]] == [other]
    assert not any("/raw/" in n for n in names)  # never a whole file for one pharmacy
    prune(store, RetentionPolicy(), day + timedelta(days=400))
    later = export_file(store, file_id, tmp_path / "later.zip")
    assert later.pruned == 3 and later.payloads == 0
    with zipfile.ZipFile(later.path) as archive:
        trail = json.loads(archive.read(f"F{file_id}/trail.json"))
        manifest = json.loads(archive.read("manifest.json"))
    assert len(trail["deliveries"]) == 2  # from the audit table
    assert manifest["files"][0]["payload_pruned_at"]


def test_prune_command_dry_run_then_real(store_url, tmp_path, capsys):
    with open_store(store_url) as store:
        delivered_file(store, tmp_path, "a.835", dead=1)
    assert main(["prune", "--dry-run", "--store", store_url]) == EXIT_OK  # today: nothing due
    out = capsys.readouterr().out
    assert "payloads: would remove 0 (0 bytes)" in out and "sweep: would remove 0" in out
    assert main(["prune", "--store", store_url]) == EXIT_OK
    assert "payloads: removed 0" in capsys.readouterr().out
    with open_store(store_url) as store:
        assert [e.action for e in store.events("retention", "prune")] == ["pruned"]


def test_the_daemon_prunes_once_a_day(tmp_path):
    from gateway.config.settings import load_settings
    from gateway.daemon.loop import Daemon
    from gateway.ops.demo import folder_workspace

    config, _ = folder_workspace(tmp_path / "ws")
    work = load_settings(config).work_dir
    work.mkdir(parents=True, exist_ok=True)
    (work / "split-killed").mkdir()
    _age(work / "split-killed", 2 * DAY)
    daemon = Daemon(load_settings(config))
    try:
        daemon.cycle()
        daemon.cycle()
        runs = daemon.store.events("retention", "prune")
    finally:
        daemon.close()
    assert [(e.action, e.actor) for e in runs] == [("pruned", "daemon")]
    assert not (work / "split-killed").exists()
