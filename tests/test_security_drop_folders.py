"""Drop folders are hostile input (issue 13, Security): whoever can write into a partner's
drop folder must not be able to plant a file in a pharmacy's inbox through a link, make the
gateway read a file through a hard link, or stop a partner's polls with a file name."""

from __future__ import annotations

import os

import pytest
from test_daemon_cycle import run_once, workspace  # noqa: F401  (fixture)

from gateway.config.settings import load_settings
from gateway.daemon.loop import Daemon
from gateway.errors import TransportError
from gateway.ops.demo import member_id
from gateway.store import open_configured
from gateway.store.models import FileStatus
from gateway.transport.folder import FolderSource
from gateway.transport.readiness import Readiness

FORGED = b"ISA*00*          *00*          *ZZ*FORGED*forged remittance~"


def _source(folder, **kwargs) -> FolderSource:
    return FolderSource(folder, partner="pbm-x", readiness=Readiness(settle_seconds=0), **kwargs)


def _ready(source):
    source.list_ready()
    return source.list_ready()


def _receive_all(source, inbox):
    names = []
    for remote in _ready(source):
        source.fetch(remote, inbox).local_path.unlink()
        source.acknowledge(remote)
        names.append(remote.name)
    return names


def test_a_symlinked_archive_cannot_plant_a_forged_remittance(workspace):  # noqa: F811
    """The forgery: the PBM archive replaced by a link to a pharmacy's inbox, a forged file
    dropped; on main archiving hard-links it into that inbox."""
    root, config, samples = workspace
    inbox = root / "pharmacies" / member_id(samples.pharmacies[0]) / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    archive = root / "pbm" / "archive"
    assert not archive.exists()  # made on the first archive
    archive.symlink_to(inbox, target_is_directory=True)
    (root / "pbm" / "outbound" / "remit-forged.835").write_bytes(FORGED)

    status = Daemon(load_settings(config)).run(once=True)

    assert not (inbox / "remit-forged.835").exists()
    assert all(p.read_bytes() != FORGED for p in inbox.iterdir())
    assert status == 1  # the poll fails, with the reason named
    assert (root / "pbm" / "outbound" / "remit-forged.835").exists()  # refused, left there
    store = open_configured(load_settings(config))
    assert store.list_files() == []  # the poll is refused before anything is fetched
    store.close()


def test_a_link_in_place_of_the_default_archive_is_refused_with_its_reason(tmp_path):
    drop, elsewhere = tmp_path / "drop", tmp_path / "pharmacy-inbox"
    drop.mkdir()
    elsewhere.mkdir()
    (drop / "archive").symlink_to(elsewhere, target_is_directory=True)
    (drop / "remit.835").write_bytes(FORGED)
    with pytest.raises(TransportError) as refused:
        _ready(_source(drop))
    assert "symbolic link" in str(refused.value) and refused.value.permanent
    assert list(elsewhere.iterdir()) == []


def test_a_link_deeper_in_the_archive_path_is_refused(tmp_path):
    drop, elsewhere = tmp_path / "drop", tmp_path / "elsewhere"
    drop.mkdir()
    (elsewhere / "day").mkdir(parents=True)
    (drop / "archive").symlink_to(elsewhere, target_is_directory=True)
    (drop / "remit.835").write_bytes(FORGED)
    with pytest.raises(TransportError):
        _ready(_source(drop, archive_dir=drop / "archive" / "day"))
    assert list((elsewhere / "day").iterdir()) == []


def test_a_hard_link_is_not_read_and_later_files_still_flow(tmp_path):
    drop, inbox = tmp_path / "drop", tmp_path / "inbox"
    drop.mkdir()
    inbox.mkdir()
    secret = tmp_path / "another-pharmacys-remit.835"
    secret.write_bytes(b"somebody else's payment")
    os.link(secret, drop / "a-linked.835")
    (drop / "b-plain.835").write_bytes(b"plain")
    source = _source(drop)
    assert _receive_all(source, inbox) == ["b-plain.835"]
    assert secret.read_bytes() == b"somebody else's payment"
    assert (drop / "a-linked.835").exists()  # refused, never archived with the secret


def test_a_file_swapped_for_a_link_after_listing_is_not_read(tmp_path):
    drop, inbox = tmp_path / "drop", tmp_path / "inbox"
    drop.mkdir()
    inbox.mkdir()
    (tmp_path / "secret").write_bytes(b"x" * 5)
    (drop / "r.835").write_bytes(b"12345")
    source = _source(drop)
    [remote] = _ready(source)
    (drop / "r.835").unlink()
    (drop / "r.835").symlink_to(tmp_path / "secret")
    with pytest.raises(TransportError):
        source.fetch(remote, inbox)
    assert list(inbox.iterdir()) == []


def test_a_file_replaced_after_the_fetch_is_not_archived_as_the_fetched_one(tmp_path):
    drop, inbox = tmp_path / "drop", tmp_path / "inbox"
    drop.mkdir()
    inbox.mkdir()
    (drop / "r.835").write_bytes(b"stored")
    source = _source(drop)
    [remote] = _ready(source)
    source.fetch(remote, inbox)
    (drop / "r.835").unlink()
    (drop / "r.835").write_bytes(b"swapped in after the store committed the first")
    source.acknowledge(remote)
    assert (drop / "r.835").read_bytes().startswith(b"swapped")  # left for the next poll
    assert not (drop / "archive").exists() or list((drop / "archive").iterdir()) == []


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"0-r\xe9mit.835", "0-r\\xe9mit.835"),  # Latin-1
        (b"0-line\nfeed.835", "0-line\\x0afeed.835"),  # a forged log line
        (b"0-tab\t\x1b[31m.835", "0-tab\\x09\\x1b[31m.835"),
        ("0-rémit.835".encode(), "0-rémit.835"),  # UTF-8 is kept as it is
    ],
)
def test_any_name_is_data(tmp_path, raw, text):
    drop, inbox = tmp_path / "drop", tmp_path / "inbox"
    drop.mkdir()
    inbox.mkdir()
    with open(os.path.join(os.fsencode(drop), raw), "wb") as f:
        f.write(b"payload")
    source = _source(drop)
    [remote] = _ready(source)
    assert remote.name == text
    remote.name.encode("utf-8")  # storable
    fetched = source.fetch(remote, inbox)
    assert fetched.local_path.read_bytes() == b"payload"
    source.acknowledge(remote)
    assert [p.name for p in drop.iterdir()] == ["archive"]
    assert len(list((drop / "archive").iterdir())) == 1


def test_a_latin1_name_neither_stops_the_poll_nor_later_files(workspace):  # noqa: F811
    """On main the name reaches the store as a lone surrogate, the insert fails, the whole
    poll fails, and every later file of the partner stays at the PBM, poll after poll."""
    root, config, _ = workspace
    outbound = root / "pbm" / "outbound"
    multi = (outbound / "era-20260105-multi.835").read_bytes()
    with open(os.fsencode(outbound) + b"/0-r\xe9mittance.835", "wb") as f:
        f.write(multi + b"\n")  # different bytes: a file of its own, not a duplicate
    run_once(config)
    store = open_configured(load_settings(config))
    files = {f.original_name: f for f in store.list_files()}
    assert files["era-20260105-multi.835"].status is FileStatus.ROUTED
    assert files["0-r\\xe9mittance.835"].status is not None
    assert [p.name for p in outbound.iterdir() if p.is_file()] == []
    store.close()
