"""The fault matrix: sshd sessions killed mid-transfer, a peer that stalls, a connection reset.

After every fault: the error is transient (the queue will retry), no partial file is visible
under a final name on either side, and a retry with the same Source/Sink object completes
with the right SHA-256. Faults are real: SIGKILL to sshd's session processes, and a loopback
TCP proxy (tests/tcp_proxy.py) that stops forwarding or resets.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import threading
import time
from pathlib import Path

import pytest
from tcp_proxy import TcpProxy

from gateway.errors import TransportError
from gateway.transport.config import sink_from_config, source_from_config

SIZE = 40 * 1024 * 1024  # big enough that a kill after 4 MiB lands mid-transfer
FAULT_AFTER = 4 * 1024 * 1024
IO_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def payload() -> bytes:
    return os.urandom(SIZE)


@pytest.fixture
def dirs(tmp_path):
    remote = tmp_path / "partner"
    (remote / "archive").mkdir(parents=True)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return remote, inbox


def _bytes_in(directory: Path) -> int:
    total = 0
    for path in directory.iterdir():
        with contextlib.suppress(FileNotFoundError):
            total += path.stat().st_size
    return total


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _when(condition, action, timeout=30.0) -> dict:
    """Run ``action`` in the background once ``condition()`` holds; returns when it fired."""
    fired: dict = {}

    def watch():
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                action()
                fired["at"] = time.monotonic()
                return
            time.sleep(0.005)

    threading.Thread(target=watch, daemon=True).start()
    return fired


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _ready_source(server, remote, **extra):
    source = source_from_config(
        server.transport_config(remote, settle_seconds=0, io_timeout=IO_TIMEOUT, **extra),
        partner="pbm-faults",
    )
    source.list_ready()
    [ready] = source.list_ready()
    return source, ready


def _assert_download_fault_left_nothing(remote, inbox, payload, fault):
    assert not fault.permanent, fault
    assert list(inbox.iterdir()) == []  # the local temp file was removed
    assert _sha((remote / "big.835").read_bytes()) == _sha(payload)  # partner's copy intact
    assert list((remote / "archive").iterdir()) == []


def test_session_killed_mid_download_then_retry(sshd_server, dirs, payload):
    remote, inbox = dirs
    (remote / "big.835").write_bytes(payload)
    source, ready = _ready_source(sshd_server, remote)
    try:
        killer = sshd_server.kill_sessions_when(lambda: _bytes_in(inbox) >= FAULT_AFTER)
        with pytest.raises(TransportError) as fault:
            source.fetch(ready, inbox)
        killer.join()
        assert killer.killed
        _assert_download_fault_left_nothing(remote, inbox, payload, fault.value)

        fetched = source.fetch(ready, inbox)  # same object: it reconnects
        assert fetched.sha256 == _sha(payload)
        assert _sha(fetched.local_path.read_bytes()) == _sha(payload)
    finally:
        source.close()


def test_session_killed_mid_upload_then_retry(sshd_server, dirs, payload):
    remote, _ = dirs
    sink = sink_from_config(sshd_server.transport_config(remote), partner="pharmacy-faults")
    try:
        killer = sshd_server.kill_sessions_when(
            lambda: _size_of(remote / "big.835.part") >= FAULT_AFTER
        )
        with pytest.raises(TransportError) as fault:
            sink.deliver("big.835", io.BytesIO(payload))
        killer.join()
        assert killer.killed
        assert not fault.value.permanent
        assert not (remote / "big.835").exists()  # nothing under the final name

        delivered = sink.deliver("big.835", io.BytesIO(payload))
        assert delivered.sha256 == _sha(payload)
        assert _sha((remote / "big.835").read_bytes()) == _sha(payload)
        assert not (remote / "big.835.part").exists()  # the retry's rename consumed it
    finally:
        sink.close()


@pytest.fixture
def proxy(sshd_server, tmp_path):
    with TcpProxy((sshd_server.host, sshd_server.port)) as proxy:
        proxy.known_hosts = sshd_server.write_known_hosts(tmp_path / "kh", port=proxy.port)
        yield proxy


def _via(proxy) -> dict:
    return {"port": proxy.port, "known_hosts": str(proxy.known_hosts)}


def test_stall_mid_download_is_detected_within_the_timeout(sshd_server, dirs, payload, proxy):
    remote, inbox = dirs
    (remote / "big.835").write_bytes(payload)
    source, ready = _ready_source(sshd_server, remote, **_via(proxy))
    try:
        stalled = _when(lambda: _bytes_in(inbox) >= FAULT_AFTER, proxy.stall)
        with pytest.raises(TransportError) as fault:
            source.fetch(ready, inbox)
        waited = time.monotonic() - stalled["at"]
        assert "timed out" in str(fault.value) or "no progress" in str(fault.value)
        # the channel timeout fires after one to two io_timeouts; a hang would be forever
        assert waited < 2 * IO_TIMEOUT + 2.0, waited
        _assert_download_fault_left_nothing(remote, inbox, payload, fault.value)

        proxy.resume()
        assert source.fetch(ready, inbox).sha256 == _sha(payload)
    finally:
        source.close()


def test_stall_mid_upload_is_detected_within_the_timeout(sshd_server, dirs, payload, proxy):
    remote, _ = dirs
    table = sshd_server.transport_config(remote, io_timeout=IO_TIMEOUT, **_via(proxy))
    sink = sink_from_config(table, partner="pharmacy-faults")
    try:
        stalled = _when(lambda: _size_of(remote / "big.835.part") >= FAULT_AFTER, proxy.stall)
        with pytest.raises(TransportError) as fault:
            sink.deliver("big.835", io.BytesIO(payload))
        waited = time.monotonic() - stalled["at"]
        assert not fault.value.permanent
        assert waited < 2 * IO_TIMEOUT + 2.0, waited
        assert not (remote / "big.835").exists()

        proxy.resume()
        assert sink.deliver("big.835", io.BytesIO(payload)).sha256 == _sha(payload)
        assert _sha((remote / "big.835").read_bytes()) == _sha(payload)
    finally:
        sink.close()


def test_server_that_never_sends_a_banner_is_given_up_on(sshd_server, dirs, proxy):
    remote, _ = dirs
    proxy.stall()
    table = sshd_server.transport_config(
        remote, connect_timeout=1.0, connect_attempts=1, **_via(proxy)
    )
    source = source_from_config(table, partner="pbm-faults")
    started = time.monotonic()
    with pytest.raises(TransportError) as fault:
        source.list_ready()
    assert not fault.value.permanent
    assert time.monotonic() - started < 1.0 + 3.0
    proxy.resume()
    assert source.list_ready() == []  # the same Source connects once the server answers
    source.close()


def test_connection_reset_mid_download_then_retry(sshd_server, dirs, payload, proxy):
    remote, inbox = dirs
    (remote / "big.835").write_bytes(payload)
    source, ready = _ready_source(sshd_server, remote, **_via(proxy))
    try:
        _when(lambda: _bytes_in(inbox) >= FAULT_AFTER, proxy.reset)
        with pytest.raises(TransportError) as fault:
            source.fetch(ready, inbox)
        _assert_download_fault_left_nothing(remote, inbox, payload, fault.value)
        assert source.fetch(ready, inbox).sha256 == _sha(payload)
    finally:
        source.close()


def test_connection_refused_is_transient_and_retried_quickly(sshd_server, dirs):
    remote, _ = dirs
    with TcpProxy((sshd_server.host, sshd_server.port)) as gone:
        closed_port = gone.port
    table = sshd_server.transport_config(remote, port=closed_port, connect_attempts=2)
    source = source_from_config(table, partner="pbm-faults")
    with pytest.raises(TransportError) as fault:
        source.list_ready()
    assert not fault.value.permanent
    assert "Unable to connect" in str(fault.value)
