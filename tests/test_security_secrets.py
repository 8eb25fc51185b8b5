"""Secrets are never TOML values (issue 13, Security): a password or passphrase written in
the configuration is refused by config loading and by ``gateway check``, naming the file,
the line, the key and the fix; ``file:`` and ``env:`` references work."""

from __future__ import annotations

import re

import pytest

from gateway.cli import main
from gateway.config.settings import load_settings
from gateway.errors import ConfigError
from gateway.ops.demo import folder_workspace
from gateway.transport.config import sftp_settings

SFTP_INBOUND = """[inbound]
type = "sftp"
host = "sftp.pbm.example"
user = "psao"
key_file = "keys/pbm_ed25519"
known_hosts = "keys/known_hosts"
remote_dir = "/outbound"
{secret}
"""


def _with_inbound(config, secret: str):
    pbm = config.parent / "partners" / "pbms" / "demo-pbm.toml"
    text = pbm.read_text()
    start = text.index("[inbound]")
    end = text.index("\n[", start + 1)
    pbm.write_text(text[:start] + SFTP_INBOUND.format(secret=secret) + text[end:])
    line = 1 + pbm.read_text().splitlines().index(secret)
    return pbm, line


@pytest.mark.parametrize(("secret", "key"), [
    ('passphrase = "correct horse battery"', "passphrase"),
    ('password = "hunter2"', "password"),
])
def test_check_refuses_a_secret_written_in_a_transport_table(tmp_path, capsys, secret, key):
    config, _ = folder_workspace(tmp_path / "ws")
    pbm, line = _with_inbound(config, secret)
    assert main(["check", "--config", str(config), "--offline"]) == 2  # a configuration error
    captured = capsys.readouterr()
    out = captured.out + captured.err
    assert f"{pbm}:{line}" in out, out
    assert f"inbound: key '{key}'" in out
    assert "never written in the configuration" in out
    assert "file:" in out and "env:" in out  # the fix
    assert "hunter2" not in out and "correct horse" not in out


def test_a_password_in_the_store_url_is_refused_with_file_line_key_and_fix(tmp_path):
    config, _ = folder_workspace(tmp_path / "ws")
    text = config.read_text()
    start = text.index("store = ")
    end = text.index("\n", start)
    config.write_text(text[:start] + 'store = "postgresql://gw:hunter2@db/gw"' + text[end:])
    line = 1 + config.read_text().splitlines().index('store = "postgresql://gw:hunter2@db/gw"')
    with pytest.raises(ConfigError) as refused:
        load_settings(config)
    message = str(refused.value)
    assert re.search(rf"{re.escape(str(config))}:{line}: \[gateway\] store", message), message
    assert "PGPASSFILE" in message and "never written" in message


def test_references_are_accepted(tmp_path):
    base = {"type": "sftp", "host": "h", "user": "u", "key_file": "k", "known_hosts": "kh",
            "remote_dir": "/r"}
    by_env = sftp_settings({**base, "passphrase": "env:PBM_PASS"}, partner="p", base_dir=tmp_path)
    assert by_env.passphrase_env == "PBM_PASS" and by_env.passphrase_file is None
    by_file = sftp_settings({**base, "passphrase": "file:keys/p.pass"}, partner="p",
                            base_dir=tmp_path)
    assert by_file.passphrase_file == tmp_path / "keys" / "p.pass"
    with pytest.raises(ConfigError):
        sftp_settings({**base, "passphrase": "env:A", "passphrase_env": "B"}, partner="p")
