"""A partner's transport as a line of config: the right Source/Sink, and mistakes named."""

from __future__ import annotations

import pytest

from gateway.errors import ConfigError
from gateway.transport.config import sftp_settings, sink_from_config, source_from_config
from gateway.transport.folder import FolderSink, FolderSource
from gateway.transport.sftp import SftpSink, SftpSource

SFTP = {
    "type": "sftp",
    "host": "sftp.pbm.example",
    "user": "psao",
    "key_file": "keys/pbm_ed25519",
    "known_hosts": "keys/pbm.known_hosts",
    "remote_dir": "/outbound",
}


def test_sftp_table_becomes_source_and_sink(tmp_path):
    table = SFTP | {
        "ready": "marker",
        "marker_suffix": ".ok",
        "after_fetch": "delete",
        "passphrase_env": "PBM_X_KEY_PASS",
        "io_timeout": 5,
        "ciphers": ["aes128-ctr"],
    }
    source = source_from_config(table, partner="pbm-x", base_dir=tmp_path)
    assert isinstance(source, SftpSource)
    s = source.settings
    assert (s.port, s.after_fetch, s.readiness.mode) == (22, "delete", "marker")
    assert s.readiness.marker_suffix == ".ok"
    assert s.key_file == tmp_path / "keys/pbm_ed25519"
    assert s.io_timeout == 5.0 and s.ciphers == ("aes128-ctr",)
    assert s.archive_path == "/outbound/archive"
    assert isinstance(sink_from_config(SFTP, partner="pbm-x"), SftpSink)


def test_folder_tables(tmp_path):
    source = source_from_config({"type": "folder", "path": str(tmp_path / "in")}, partner="p")
    assert isinstance(source, FolderSource)
    assert source.archive_dir == tmp_path / "in" / "archive"
    sink = sink_from_config({"type": "folder", "path": "out"}, partner="p", base_dir=tmp_path)
    assert isinstance(sink, FolderSink) and sink.directory == tmp_path / "out"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"hots": "x"}, ["'hots'", "unknown key", "did you mean 'host'"]),
        ({"host": None}, ["'host'", "missing"]),
        ({"port": "22"}, ["'port'", "expected int"]),
        ({"port": True}, ["'port'", "expected int"]),
        ({"io_timeout": 0}, ["'io_timeout'", "must be positive"]),
        ({"after_fetch": "move"}, ["'after_fetch'", "'archive'", "'delete'"]),
        ({"ready": "mtime"}, ["'ready'", "'stable'", "'marker'"]),
        ({"type": "ftp"}, ["'type'", "'sftp'", "'folder'"]),
        ({"type": None}, ["'type'", "missing"]),
        ({"ciphers": "aes128-ctr"}, ["'ciphers'", "expected list"]),
    ],
)
def test_mistakes_name_the_key_and_the_place(change, words):
    table = {k: v for k, v in (SFTP | change).items() if v is not None}
    with pytest.raises(ConfigError) as bad:
        source_from_config(table, partner="pbm-x", where="partners/pbm-x.toml [inbound]")
    message = str(bad.value)
    assert message.startswith("partners/pbm-x.toml [inbound]: ")
    for word in words:
        assert word in message


def test_settle_seconds_may_be_zero():
    assert sftp_settings(SFTP | {"settle_seconds": 0}, partner="p").readiness.settle_seconds == 0
