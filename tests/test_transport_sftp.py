"""SFTP Source and Sink against a real OpenSSH sshd (tests/sshd.py): the happy paths, the
fetch → commit → acknowledge order, host-key pinning and key authentication."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import time

import pytest
import structlog.testing
from sshd import keygen, public_key

from gateway.errors import TransportError
from gateway.transport.config import sftp_settings, sink_from_config, source_from_config
from gateway.transport.sftp import SftpSink, SftpSource
from gateway.transport.sftp_read import read_blocks


@pytest.fixture
def dirs(tmp_path):
    """The partner's side (remote_dir, visible to the test as a local path) and our inbox."""
    remote = tmp_path / "partner"
    (remote / "archive").mkdir(parents=True)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return remote, inbox


def _source(server, remote, **extra) -> SftpSource:
    table = server.transport_config(remote, settle_seconds=0, **extra)
    source = source_from_config(table, partner="pbm-test")
    assert isinstance(source, SftpSource)
    return source


def _poll_until_ready(source, polls=2):
    ready = []
    for _ in range(polls):
        ready = source.list_ready()
    return ready


def test_fetch_keeps_remote_copy_until_acknowledge(sshd_server, dirs):
    """The 'record before removing' order: fetch leaves the partner's file; only acknowledge
    (called after the store commit) moves it to the archive."""
    remote, inbox = dirs
    payload = os.urandom(3 * 1024 * 1024 + 17)
    (remote / "CENTRALPAY_835.txt").write_bytes(payload)
    source = _source(sshd_server, remote)
    try:
        assert source.list_ready() == []  # first sighting: not yet known to be stable
        [ready] = source.list_ready()
        assert ready.name == "CENTRALPAY_835.txt"
        assert ready.size == len(payload)

        fetched = source.fetch(ready, inbox)
        assert fetched.local_path.read_bytes() == payload
        assert fetched.sha256 == hashlib.sha256(payload).hexdigest()
        assert fetched.size == len(payload)
        assert (remote / "CENTRALPAY_835.txt").read_bytes() == payload  # still there

        # ... here the caller commits `fetched` to the message store ...
        source.acknowledge(ready)
        assert not (remote / "CENTRALPAY_835.txt").exists()
        assert (remote / "archive" / "CENTRALPAY_835.txt").read_bytes() == payload
        assert source.list_ready() == []
    finally:
        source.close()


def test_archive_never_overwrites_and_acknowledge_is_idempotent(sshd_server, dirs):
    remote, inbox = dirs
    (remote / "archive" / "a.835").write_bytes(b"yesterday's file")
    (remote / "a.835").write_bytes(b"today's file")
    source = _source(sshd_server, remote)
    try:
        [ready] = _poll_until_ready(source)
        source.fetch(ready, inbox)
        source.acknowledge(ready)
        source.acknowledge(ready)  # e.g. after a crash between rename and bookkeeping
        archived = sorted(p.read_bytes() for p in (remote / "archive").iterdir())
        assert archived == [b"today's file", b"yesterday's file"]
    finally:
        source.close()


def test_delete_after_fetch(sshd_server, dirs):
    remote, inbox = dirs
    (remote / "b.835").write_bytes(b"ISA*")
    source = _source(sshd_server, remote, after_fetch="delete")
    try:
        [ready] = _poll_until_ready(source)
        source.fetch(ready, inbox)
        assert (remote / "b.835").exists()
        source.acknowledge(ready)
        assert not (remote / "b.835").exists()
        assert list((remote / "archive").iterdir()) == []
    finally:
        source.close()


def test_temp_names_dirs_and_growing_files_are_not_offered(sshd_server, dirs):
    remote, _ = dirs
    for name in ("upload.835.part", ".hidden", "x.filepart", "x.tmp"):
        (remote / name).write_bytes(b"partial")
    (remote / "sub").mkdir()
    (remote / "link").symlink_to("/etc/passwd")
    growing = remote / "growing.835"
    growing.write_bytes(b"first half")
    source = _source(sshd_server, remote)
    try:
        assert source.list_ready() == []
        with growing.open("ab") as f:
            f.write(b" second half")
        assert source.list_ready() == []  # size changed between polls
        assert [r.name for r in source.list_ready()] == ["growing.835"]
    finally:
        source.close()


def test_marker_convention(sshd_server, dirs):
    remote, inbox = dirs
    (remote / "c.835").write_bytes(b"complete")
    (remote / "d.835").write_bytes(b"still uploading")
    (remote / "c.835.done").write_bytes(b"")
    source = _source(sshd_server, remote, ready="marker", marker_suffix=".done")
    try:
        [ready] = source.list_ready()  # no second poll needed: the marker says so
        assert ready.name == "c.835"
        source.fetch(ready, inbox)
        source.acknowledge(ready)
        assert not (remote / "c.835.done").exists()
        assert (remote / "archive" / "c.835").exists()
        assert source.list_ready() == []
    finally:
        source.close()


def test_sink_delivers_atomically_and_redelivery_overwrites(sshd_server, dirs):
    remote, _ = dirs
    sink = sink_from_config(sshd_server.transport_config(remote), partner="pharmacy-1")
    assert isinstance(sink, SftpSink)
    try:
        first = sink.deliver("../../etc/835_out.txt", io.BytesIO(b"first" * 1000))
        again = sink.deliver("../../etc/835_out.txt", io.BytesIO(b"second"))
        assert (remote / "835_out.txt").read_bytes() == b"second"
        assert first.size == 5000
        assert again.sha256 == hashlib.sha256(b"second").hexdigest()
        assert again.location.endswith(f"{remote}/835_out.txt")
        assert sorted(p.name for p in remote.iterdir()) == ["835_out.txt", "archive"]
    finally:
        sink.close()


def _fingerprint(pub_path):
    import base64

    blob = base64.b64decode(pub_path.read_text().split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def test_unknown_host_key_is_refused_with_fingerprint(sshd_server, dirs, tmp_path):
    remote, _ = dirs
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    source = _source(sshd_server, remote, known_hosts=str(empty))
    with pytest.raises(TransportError) as refused:
        source.list_ready()
    assert refused.value.permanent
    message = str(refused.value)
    assert "127.0.0.1 port" in message and str(sshd_server.port) in message
    assert _fingerprint(public_key(sshd_server.host_key)) in message


def test_changed_host_key_is_refused_without_retry(sshd_server, dirs, tmp_path):
    remote, _ = dirs
    other = keygen(tmp_path / "other_host_key")
    pub = public_key(other).read_text().split()
    pinned = tmp_path / "known_hosts"
    pinned.write_text(f"[127.0.0.1]:{sshd_server.port} {pub[0]} {pub[1]}\n")
    source = _source(sshd_server, remote, known_hosts=str(pinned), connect_attempts=3)
    with pytest.raises(TransportError) as refused:
        source.list_ready()
    assert refused.value.permanent
    assert "host key changed" in str(refused.value)
    assert _fingerprint(public_key(sshd_server.host_key)) in str(refused.value)


def test_wrong_client_key_is_refused_as_permanent(sshd_server, dirs, tmp_path):
    remote, _ = dirs
    stranger = keygen(tmp_path / "stranger")
    source = _source(sshd_server, remote, key_file=str(stranger))
    with pytest.raises(TransportError) as refused:
        source.list_ready()
    assert refused.value.permanent
    assert "authentication refused" in str(refused.value)


@pytest.mark.parametrize("key_type", ["rsa", "ecdsa"])
def test_passphrase_protected_keys_from_environment(
    sshd_server, dirs, tmp_path, monkeypatch, key_type
):
    remote, _ = dirs
    key = keygen(tmp_path / f"client_{key_type}", key_type, passphrase="correct horse")
    sshd_server.authorize(public_key(key))
    monkeypatch.setenv("PBM_TEST_KEY_PASS", "correct horse")
    (remote / "e.835").write_bytes(b"ISA")
    source = _source(sshd_server, remote, key_file=str(key), passphrase_env="PBM_TEST_KEY_PASS")
    try:
        assert [r.name for r in _poll_until_ready(source)] == ["e.835"]
    finally:
        source.close()

    monkeypatch.delenv("PBM_TEST_KEY_PASS")
    source = _source(sshd_server, remote, key_file=str(key))
    with pytest.raises(TransportError, match="encrypted and no passphrase"):
        source.list_ready()


def test_paramiko_debug_log_never_carries_file_contents(sshd_server, dirs, caplog):
    remote, inbox = dirs
    marker = b"SECRET-CLAIM-CONTENT-7f3a"
    (remote / "f.835").write_bytes(marker * 2000)
    caplog.set_level(logging.DEBUG, logger="paramiko")
    source = _source(sshd_server, remote)
    try:
        [ready] = _poll_until_ready(source)
        source.connection.sftp().get_channel().get_transport().set_hexdump(True)
        fetched = source.fetch(ready, inbox)
    finally:
        source.close()
    assert fetched.size == len(marker) * 2000
    paramiko_records = [r for r in caplog.records if r.name.startswith("paramiko")]
    assert all(r.levelno > logging.DEBUG for r in paramiko_records)
    assert "SECRET-CLAIM" not in caplog.text
    assert "53 45 43 52 45 54" not in caplog.text  # the hex dump of "SECRET"


def test_settings_from_config_resolve_relative_paths(sshd_server, tmp_path):
    table = sshd_server.transport_config("/in", key_file="keys/k", known_hosts="keys/kh")
    settings = sftp_settings(table, partner="p", base_dir=tmp_path)
    assert settings.key_file == tmp_path / "keys/k"
    assert settings.known_hosts == tmp_path / "keys/kh"
    assert settings.port == sshd_server.port


@pytest.mark.parametrize("fast", [True, False], ids=["own-requests", "readv-fallback"])
@pytest.mark.parametrize("size", [0, 1, 32768, 5 * 1024 * 1024 + 12345])
def test_block_reader_returns_every_byte_in_order(sshd_server, dirs, fast, size):
    remote, _ = dirs
    payload = os.urandom(size)
    (remote / "blocks.bin").write_bytes(payload)
    source = _source(sshd_server, remote)
    try:
        with source.connection.sftp().open(str(remote / "blocks.bin"), "rb") as handle:
            pieces = list(read_blocks(handle, size, 1024 * 1024 + 4096, fast=fast))
    finally:
        source.close()
    assert b"".join(pieces) == payload
    assert all(len(p) <= 32768 for p in pieces)


def test_our_log_events_carry_size_and_sha256_not_contents(sshd_server, dirs):
    remote, inbox = dirs
    payload = b"NM1*QC*1*DOE*JANE~" * 100
    (remote / "g.835").write_bytes(payload)
    source = _source(sshd_server, remote)
    try:
        [ready] = _poll_until_ready(source)
        with structlog.testing.capture_logs() as events:
            source.fetch(ready, inbox)
            source.acknowledge(ready)
    finally:
        source.close()
    fetched = next(e for e in events if e["event"] == "sftp.fetched")
    assert fetched["partner"] == "pbm-test"
    assert fetched["size"] == len(payload)
    assert fetched["sha256"] == hashlib.sha256(payload).hexdigest()
    assert fetched["remote_name"] == "g.835"
    assert "DOE" not in repr(events)


def test_missing_remote_directory_is_permanent_and_named(sshd_server, tmp_path):
    sink = sink_from_config(sshd_server.transport_config(tmp_path / "no-such-dir"), partner="p")
    try:
        with pytest.raises(TransportError) as missing:
            sink.deliver("x.835", io.BytesIO(b"data"))
    finally:
        sink.close()
    assert missing.value.permanent
    assert "no-such-dir" in str(missing.value)
    assert "remote_dir" in str(missing.value)


def test_after_a_host_key_refusal_the_pinned_key_works(sshd_server, dirs, tmp_path):
    """A refusal is permanent for that config; fixing known_hosts is all it takes."""
    remote, inbox = dirs
    (remote / "h.835").write_bytes(b"ISA*00")
    empty = tmp_path / "kh"
    empty.write_text("")
    refused = _source(sshd_server, remote, known_hosts=str(empty))
    with pytest.raises(TransportError):
        refused.list_ready()
    sshd_server.write_known_hosts(empty)
    source = _source(sshd_server, remote, known_hosts=str(empty))
    try:
        [ready] = _poll_until_ready(source)
        assert source.fetch(ready, inbox).sha256 == hashlib.sha256(b"ISA*00").hexdigest()
    finally:
        source.close()
    assert list(remote.glob("h.835*")) == [remote / "h.835"]


class _BrokenRenderer(io.RawIOBase):
    """A data source that fails after 3 MiB, like a renderer crashing mid-file."""

    def __init__(self):
        self.sent = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        if self.sent >= 3 * 1024 * 1024:
            raise OSError("renderer failed")
        buffer[: len(buffer)] = b"x" * len(buffer)
        self.sent += len(buffer)
        return len(buffer)


def test_failed_upload_leaves_neither_final_nor_part(sshd_server, dirs):
    remote, _ = dirs
    (remote / "out.835").write_bytes(b"previous delivery")
    sink = sink_from_config(sshd_server.transport_config(remote), partner="pharmacy-1")
    try:
        with pytest.raises(TransportError):
            sink.deliver("out.835", io.BufferedReader(_BrokenRenderer()))
        assert (remote / "out.835").read_bytes() == b"previous delivery"  # untouched
        assert not (remote / "out.835.part").exists()  # cleaned: the connection was alive
    finally:
        sink.close()


def test_a_connection_closed_by_the_server_between_polls_is_replaced(sshd_server, dirs):
    remote, inbox = dirs
    (remote / "i.835").write_bytes(b"ISA")
    source = _source(sshd_server, remote)
    try:
        source.list_ready()
        assert sshd_server.kill_sessions() > 0  # e.g. the partner's idle timeout
        deadline = time.monotonic() + 5
        while source.connection._client.get_transport().is_active():
            assert time.monotonic() < deadline
            time.sleep(0.01)
        [ready] = source.list_ready()  # no error: a fresh connection
        assert source.fetch(ready, inbox).size == 3
    finally:
        source.close()


def test_a_latin1_name_is_taken_as_data_and_later_files_still_flow(sshd_server, dirs):
    """paramiko's listdir_attr decodes names as strict UTF-8: on main one Latin-1 name fails
    every listing of the partner, so no later file is ever fetched."""
    remote, inbox = dirs
    with open(os.fsencode(remote) + b"/0-r\xe9mit.835", "wb") as f:
        f.write(b"latin-1 named")
    (remote / "1-plain.835").write_bytes(b"plain")
    source = _source(sshd_server, remote)
    try:
        ready = _poll_until_ready(source)
        assert [r.name for r in ready] == ["0-r\\xe9mit.835", "1-plain.835"]
        for r in ready:
            assert source.fetch(r, inbox).local_path.read_bytes() in (b"latin-1 named", b"plain")
            source.acknowledge(r)
        assert sorted(os.listdir(os.fsencode(remote / "archive"))) == [
            b"0-r\xe9mit.835", b"1-plain.835"]  # archived under the partner's own bytes
        assert [p for p in remote.iterdir() if p.is_file()] == []
    finally:
        source.close()
