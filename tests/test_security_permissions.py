"""Permissions whatever the umask (issue 13, Security): under the usual umask 022 main left
the data dir 0755, gateway.db and its WAL 0644, payload directories 0755 and files delivered
over SFTP 0644. Now: data dir 0700, database and payloads 0600, payload dirs 0700, delivered
files a configurable mode (0640 locally, 0600 over SFTP: acks at the PBM too)."""

from __future__ import annotations

import io
import os
import secrets
import stat

import pytest
from test_daemon_cycle import run_once, workspace  # noqa: F401  (fixture)

from gateway.config.settings import load_settings
from gateway.console.auth import load_secret
from gateway.errors import ConfigError
from gateway.transport.config import sink_from_config


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_daemon_files_are_private_whatever_the_umask(workspace, umask_022):  # noqa: F811
    root, config, _ = workspace
    run_once(config)
    settings = load_settings(config)
    data = settings.data_dir
    assert _mode(data) == 0o700
    database = data / "gateway.db"
    assert _mode(database) == 0o600
    for side in ("gateway.db-wal", "gateway.db-shm"):
        if (data / side).exists():
            assert _mode(data / side) == 0o600, side
    payloads = [p for p in (data / "gateway-payloads").rglob("*")]
    assert payloads
    for path in payloads:
        assert _mode(path) == (0o700 if path.is_dir() else 0o600), path
    delivered = [p for p in (root / "pharmacies").rglob("*.835")]
    assert delivered and {_mode(p) for p in delivered} == {0o640}


def test_an_existing_open_data_dir_is_closed(workspace, umask_022):  # noqa: F811
    _, config, _ = workspace
    data = load_settings(config).data_dir
    data.mkdir(mode=0o755, parents=True, exist_ok=True)
    os.chmod(data, 0o755)
    run_once(config)
    assert _mode(data) == 0o700


def test_delivered_mode_is_configurable_and_never_world_readable(tmp_path, umask_022):
    sink = sink_from_config({"type": "folder", "path": str(tmp_path / "a"), "mode": "0600"},
                            partner="p")
    sink.deliver("r.835", io.BytesIO(b"x"))
    assert _mode(tmp_path / "a" / "r.835") == 0o600
    os.umask(0o077)  # a tight umask does not take the group's read away either
    sink_from_config({"type": "folder", "path": str(tmp_path / "b")}, partner="p").deliver(
        "r.835", io.BytesIO(b"x"))
    assert _mode(tmp_path / "b" / "r.835") == 0o640
    with pytest.raises(ConfigError):
        sink_from_config({"type": "folder", "path": str(tmp_path), "mode": "0644"}, partner="p")


def test_files_delivered_over_sftp_are_0600(sshd_server, tmp_path, umask_022):
    remote = tmp_path / "pbm-inbound"
    remote.mkdir()
    sink = sink_from_config(sshd_server.transport_config(remote), partner="pbm")
    try:
        sink.deliver("era.835.7.999", io.BytesIO(b"ISA*00~"))
    finally:
        sink.close()
    assert _mode(remote / "era.835.7.999") == 0o600


def test_the_console_key_is_created_atomically(tmp_path, monkeypatch, umask_022):
    """On main a crash between create and write left an empty key, used from then on."""
    key = tmp_path / "data" / "console-secret"

    def crash(_):
        raise KeyboardInterrupt  # the process dies here

    monkeypatch.setattr(secrets, "token_hex", crash)
    with pytest.raises(KeyboardInterrupt):
        load_secret(key)
    monkeypatch.undo()
    secret = load_secret(key)
    assert len(secret) == 64 and _mode(key) == 0o600
    assert load_secret(key) == secret


def test_an_empty_key_left_by_an_old_crash_is_replaced(tmp_path):
    key = tmp_path / "console-secret"
    key.write_bytes(b"")
    assert len(load_secret(key)) == 64
