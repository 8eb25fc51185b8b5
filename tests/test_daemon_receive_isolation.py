"""The receiver takes each of a partner's files on its own (issue 10): defects 9 and 11."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

from conftest import require

from gateway.daemon.metrics import Metrics
from gateway.daemon.receive import Receiver
from gateway.errors import TransportError
from gateway.store.models import FileStatus
from gateway.transport.base import Fetched, RemoteFile
from gateway.transport.folder import FolderSource
from gateway.transport.readiness import Readiness


class UnfetchableOne(FolderSource):
    """A real drop folder in which one file cannot be read (a partner's broken upload)."""

    def fetch(self, remote: RemoteFile, local_dir: Path) -> Fetched:
        if remote.name == "a-bad.835":
            raise TransportError("reading a-bad.835: I/O error", permanent=False)
        return super().fetch(remote, local_dir)


class WriterResumes(FolderSource):
    """A real drop folder whose writer had paused: it writes the rest while we fetch."""

    rest = b""

    def fetch(self, remote: RemoteFile, local_dir: Path) -> Fetched:
        fetched = super().fetch(remote, local_dir)
        if self.rest:
            with open(remote.path, "ab") as out:
                out.write(self.rest)
            os.utime(remote.path, (remote.mtime + 5, remote.mtime + 5))
            self.rest = b""
        return fetched


def _poll(store, tmp_path: Path, source: FolderSource):
    partner = SimpleNamespace(id="pbm-a", source=source, settle_seconds=0.0)
    receiver = Receiver(store, work_dir=tmp_path / "work", metrics=Metrics())
    return receiver.poll(partner, prime=True)  # type: ignore[arg-type]


def _drop(tmp_path: Path) -> Path:
    drop = tmp_path / "drop"
    drop.mkdir()
    return drop


def test_defect_9_an_unfetchable_file_does_not_stop_the_partners_later_files(store, tmp_path):
    drop = _drop(tmp_path)
    (drop / "a-bad.835").write_bytes(b"ISA bad")
    (drop / "b-good.835").write_bytes(b"ISA good")
    source = UnfetchableOne(drop, readiness=Readiness(settle_seconds=0.0))
    outcome = _poll(store, tmp_path, source)
    assert [f.original_name for f in store.list_files()] == ["b-good.835"]
    assert outcome.failed == ["a-bad.835: TransportError"]
    assert sorted(p.name for p in drop.iterdir() if p.is_file()) == ["a-bad.835"]


def _chattr(flag: str, path: Path) -> bool:
    chattr = shutil.which("chattr")
    return chattr is not None and subprocess.run(
        [chattr, flag, str(path)], capture_output=True).returncode == 0


def test_defect_9_a_failing_archive_does_not_record_the_file_again(store, tmp_path):
    drop = _drop(tmp_path)
    (drop / "a.835").write_bytes(b"ISA one")
    blocked = tmp_path / "archive"
    blocked.mkdir()
    # An archive folder that refuses new entries (immutable: EPERM even for root), while the
    # drop folder itself lists and reads as usual.
    require(_chattr("+i", blocked), "chattr +i (root on ext4/xfs)",
            "run the tests as root on a file system with the immutable attribute")
    source = FolderSource(drop, archive_dir=blocked, readiness=Readiness(settle_seconds=0.0))
    try:
        for _ in range(3):
            outcome = _poll(store, tmp_path, source)
            assert outcome.failed == ["a.835: TransportError"]
        (only,) = store.list_files()
        assert only.status is FileStatus.RECEIVED  # one row, no duplicate per poll
    finally:
        _chattr("-i", blocked)  # the partner's archive folder is back: archived, one row
    outcome = _poll(store, tmp_path, source)
    assert outcome.failed == [] and not (drop / "a.835").exists()
    assert len(store.list_files()) == 1 and (blocked / "a.835").exists()


def test_defect_11_a_file_that_grew_after_listing_is_kept_and_fetched_again(store, tmp_path):
    drop = _drop(tmp_path)
    (drop / "paused.835").write_bytes(b"ISA first half")
    source = WriterResumes(drop, readiness=Readiness(settle_seconds=0.0))
    source.rest = b" and the second half"
    _poll(store, tmp_path, source)
    assert store.list_files() == []  # the truncated copy is not taken
    assert (drop / "paused.835").exists()  # nor archived at the partner
    _poll(store, tmp_path, source)
    (received,) = store.list_files()
    assert received.size == len(b"ISA first half and the second half")
    assert not (drop / "paused.835").exists()


def test_defect_10_healthz_is_degraded_while_a_partners_polls_fail_or_the_disk_is_full(
        tmp_path):
    """200 "degraded" with the reason (not 503: restarting would not help), then ok again."""
    import json
    import shutil
    import urllib.request

    from gateway.config.settings import load_settings
    from gateway.daemon.health import HealthServer
    from gateway.daemon.loop import Daemon
    from gateway.ops.demo import folder_workspace

    config, _samples = folder_workspace(tmp_path / "ws")
    drop = config.parent / "pbm" / "outbound"
    moved = drop.with_name("away")
    shutil.move(drop, moved)  # the partner's folder is gone: every poll fails
    daemon = Daemon(load_settings(config))
    server = HealthServer("127.0.0.1", 0, health=daemon._health, metrics=lambda: b"").start()

    def health() -> dict:
        with urllib.request.urlopen(server.url + "/healthz", timeout=5) as answer:
            assert answer.status == 200
            return dict(json.load(answer))

    try:
        for _ in range(2):
            assert daemon.cycle(force=True) is False
        state = health()
        assert state["status"] == "degraded"
        assert any(r.startswith("partner demo-pbm: 2 polls in a row failed")
                   for r in state["degraded"])
        shutil.move(moved, drop)
        assert daemon.cycle(force=True) is True
        assert health()["status"] == "ok"
        daemon.disk_low_bytes = 1 << 62  # more than any disk has free
        assert any(r.startswith("disk nearly full") for r in health()["degraded"])
    finally:
        server.stop()
        daemon.close()
