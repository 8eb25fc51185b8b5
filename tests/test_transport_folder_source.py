"""FolderSource (pharmacies' drop folders): readiness, fetch → commit → acknowledge, archive
without overwriting, and partner file names treated as data."""

from __future__ import annotations

import hashlib
import os

import pytest

from gateway.errors import TransportError
from gateway.transport.base import RemoteFile
from gateway.transport.folder import FolderSource
from gateway.transport.readiness import Readiness, StabilityTracker


@pytest.fixture
def drop(tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return folder, inbox


def _source(folder, **kwargs) -> FolderSource:
    kwargs.setdefault("readiness", Readiness(settle_seconds=0))
    return FolderSource(folder, partner="pharmacy-1", **kwargs)


def _two_polls(source):
    source.list_ready()
    return source.list_ready()


def test_fetch_keeps_the_file_until_acknowledge_then_archives(drop):
    folder, inbox = drop
    payload = os.urandom(300_000)
    (folder / "claims 1.ncpdp").write_bytes(payload)
    source = _source(folder)
    assert source.list_ready() == []
    [ready] = source.list_ready()
    assert ready.name == "claims 1.ncpdp"  # the original name, kept for the store

    fetched = source.fetch(ready, inbox)
    assert fetched.sha256 == hashlib.sha256(payload).hexdigest()
    assert fetched.local_path.read_bytes() == payload
    assert fetched.local_path.parent == inbox
    assert (folder / "claims 1.ncpdp").exists()  # untouched until the store committed

    source.acknowledge(ready)
    assert not (folder / "claims 1.ncpdp").exists()
    assert (folder / "archive" / "claims_1.ncpdp").read_bytes() == payload
    assert source.list_ready() == []


def test_archive_keeps_both_when_a_name_comes_back(drop):
    folder, inbox = drop
    source = _source(folder)
    for content in (b"monday", b"tuesday"):
        (folder / "c.ncpdp").write_bytes(content)
        [ready] = _two_polls(source)
        source.fetch(ready, inbox)
        source.acknowledge(ready)
        source.acknowledge(ready)  # idempotent: already archived
    archived = sorted(p.read_bytes() for p in (folder / "archive").iterdir())
    assert archived == [b"monday", b"tuesday"]


def test_delete_after_fetch(drop):
    folder, inbox = drop
    (folder / "d.ncpdp").write_bytes(b"x")
    source = _source(folder, after_fetch="delete")
    [ready] = _two_polls(source)
    source.fetch(ready, inbox)
    source.acknowledge(ready)
    assert sorted(p.name for p in folder.iterdir()) == []


def test_temp_names_symlinks_dirs_and_growing_files_are_not_offered(drop, tmp_path):
    folder, _ = drop
    for name in (".x.swp", "a.part", "b.tmp", "c.filepart"):
        (folder / name).write_bytes(b"partial")
    (folder / "archive").mkdir()
    outside = tmp_path / "secret"
    outside.write_bytes(b"not the pharmacy's")
    (folder / "link.ncpdp").symlink_to(outside)
    growing = folder / "growing.ncpdp"
    growing.write_bytes(b"1")
    source = _source(folder)
    assert source.list_ready() == []
    with growing.open("ab") as f:
        f.write(b"2")
    assert source.list_ready() == []
    assert [r.name for r in source.list_ready()] == ["growing.ncpdp"]


def test_marker_convention(drop):
    folder, inbox = drop
    (folder / "e.ncpdp").write_bytes(b"done")
    (folder / "e.ncpdp.ok").write_bytes(b"")
    (folder / "f.ncpdp").write_bytes(b"no marker yet")
    source = _source(folder, readiness=Readiness(mode="marker", marker_suffix=".ok"))
    [ready] = source.list_ready()
    assert ready.name == "e.ncpdp"
    source.fetch(ready, inbox)
    source.acknowledge(ready)
    assert sorted(p.name for p in folder.iterdir()) == ["archive", "f.ncpdp"]


def test_a_file_that_changed_after_listing_is_not_fetched(drop):
    folder, inbox = drop
    (folder / "g.ncpdp").write_bytes(b"short")
    source = _source(folder)
    [ready] = _two_polls(source)
    (folder / "g.ncpdp").write_bytes(b"much longer now")
    with pytest.raises(TransportError) as changed:
        source.fetch(ready, inbox)
    assert not changed.value.permanent
    assert list(inbox.iterdir()) == []


def test_a_symlink_swapped_in_after_listing_is_refused(drop, tmp_path):
    folder, inbox = drop
    (folder / "h.ncpdp").write_bytes(b"12345")
    source = _source(folder)
    [ready] = _two_polls(source)
    (folder / "h.ncpdp").unlink()
    (tmp_path / "other").write_bytes(b"abcde")
    (folder / "h.ncpdp").symlink_to(tmp_path / "other")
    with pytest.raises(TransportError):
        source.fetch(ready, inbox)
    assert list(inbox.iterdir()) == []


def test_missing_folder_is_a_permanent_error_naming_it(tmp_path):
    source = _source(tmp_path / "nowhere")
    with pytest.raises(TransportError) as missing:
        source.list_ready()
    assert missing.value.permanent
    assert "nowhere" in str(missing.value)


def test_stability_waits_for_the_settle_time():
    now = [100.0]
    tracker = StabilityTracker(settle_seconds=2.0, clock=lambda: now[0])
    listing = [RemoteFile(path="/in/a", name="a", size=10, mtime=5.0)]
    assert tracker.ready(listing) == []
    now[0] += 1.0
    assert tracker.ready(listing) == []  # unchanged, but not for 2 s yet
    now[0] += 1.5
    assert tracker.ready(listing) == listing
    grown = [RemoteFile(path="/in/a", name="a", size=11, mtime=5.0)]
    assert tracker.ready(grown) == []  # any change restarts the clock
