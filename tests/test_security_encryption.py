"""Encryption at rest as an operator meets it (issue 13, Security): ``gateway init`` turns it
on with a 0600 key outside the data directory, ``check`` names what is wrong with a key, off
is only an explicit setting, and the daemon (``run --once``, SQLite and PostgreSQL) delivers
the same bytes with encryption on as off while its store never holds a claim in plaintext.

On today's main the store keeps every payload as received: the end-to-end test below finds
the synthetic CLP segment in the payload files and the bytea rows (its "off" half still
does, by explicit choice), and main knows no ``[encryption]`` section at all.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from daemon_support import REPO, outputs
from store_backends import empty_postgres

from gateway.cli import main
from gateway.config.settings import load_settings
from gateway.ops.demo import folder_workspace
from gateway.store import open_configured


def test_init_turns_encryption_on_with_a_private_key_outside_the_data_dir(tmp_path, capsys):
    target = tmp_path / "etc-gateway"
    assert main(["init", str(target)]) == 0
    settings = load_settings(target)
    assert settings.encryption.on and 'payloads = "on"' in (target / "gateway.toml").read_text()
    key = target / "keys" / "payload.key"
    assert settings.encryption.key is not None
    assert settings.encryption.key.reference == f"file:{key.resolve()}"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert settings.data_dir not in key.resolve().parents
    (target / "keys" / "example-pbm_ed25519").write_text("a key would be here\n")
    capsys.readouterr()
    assert main(["check", "--config", str(target), "--offline"]) == 0
    assert "ok    payload encryption: on, key id kek-" in capsys.readouterr().out
    before = key.read_bytes()
    assert main(["init", str(target), "--force"]) == 0  # the examples again, never the key
    assert key.read_bytes() == before


@pytest.mark.parametrize(("spoil", "expected"), [
    (lambda key: key.unlink(), "does not exist"),
    (lambda key: key.chmod(0o644), "mode 0644"),
    (lambda key: key.write_text("c2hvcnQ=\n"), "decodes to 5 bytes"),
])
def test_check_names_the_key_file_setting_and_fix(tmp_path, capsys, spoil, expected):
    target = tmp_path / "cfg"
    assert main(["init", str(target)]) == 0
    (target / "keys" / "example-pbm_ed25519").write_text("a key would be here\n")
    key = target / "keys" / "payload.key"
    spoil(key)
    capsys.readouterr()
    assert main(["check", "--config", str(target), "--offline"]) == 1
    line = next(x for x in capsys.readouterr().out.splitlines() if "payload encryption" in x)
    assert line.startswith("FAIL") and expected in line
    assert "[encryption] key" in line and str(key.resolve()) in line
    assert "gateway keys new" in line or "chmod 600" in line


def test_off_is_an_explicit_setting_and_check_warns(tmp_path, capsys):
    target = tmp_path / "cfg"
    assert main(["init", str(target)]) == 0
    (target / "keys" / "example-pbm_ed25519").write_text("a key would be here\n")
    toml = target / "gateway.toml"
    toml.write_text(toml.read_text().replace('payloads = "on"', 'payloads = "off"'))
    assert not load_settings(toml).encryption.on
    capsys.readouterr()
    assert main(["check", "--config", str(target), "--offline"]) == 0
    assert "WARN  payload encryption: off by choice" in capsys.readouterr().out
    toml.write_text(toml.read_text().replace('payloads = "off"', 'payloads = "maybe"'))
    with pytest.raises(Exception, match=r'\[encryption\] payloads'):
        load_settings(toml)


def test_no_section_is_no_choice_the_daemon_refuses_and_check_fails(tmp_path, capsys):
    """Plaintext only by an explicit setting: a gateway.toml that never chose (one from before
    encryption) keeps its store readable, but the daemon will not write payloads with it."""
    target = tmp_path / "cfg"
    assert main(["init", str(target)]) == 0
    (target / "keys" / "example-pbm_ed25519").write_text("a key would be here\n")
    toml = target / "gateway.toml"
    text = toml.read_text()
    section = re.search(r"\[encryption\]\n(?:[^\[]*\n)?", text)
    assert section
    toml.write_text(text.replace(section.group(0), ""))
    assert load_settings(toml).encryption.mode == "unset"
    capsys.readouterr()
    assert main(["check", "--config", str(target), "--offline"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  payload encryption" in out and 'payloads = "off"' in out
    run = subprocess.run([sys.executable, "-m", "gateway", "run", "--once", "--config",
                          str(toml)], capture_output=True, text=True, cwd=target,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
    assert run.returncode != 0
    assert "no [encryption] section" in run.stderr and "gateway keys new" in run.stderr
    assert "Traceback" not in run.stderr


def _segment(config: Path) -> bytes:
    """A claim segment of the first input file: synthetic, and never to be stored as is."""
    data = next((config.parent / "pbm" / "outbound").glob("*multi.835")).read_bytes()
    found = re.search(rb"CLP\*[^~\n]{20,}", data)
    assert found
    return found.group(0)


def _run_once(config: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "gateway", "run", "--once", "--config",
                          str(config)], capture_output=True, text=True, cwd=config.parent,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=180)
    assert run.returncode == 0, run.stderr[-2000:]


def _stored(config: Path, url: str | None) -> list[bytes]:
    if url is None:
        folder = config.parent / "data" / "gateway-payloads"
        return [p.read_bytes() for p in folder.rglob("*") if p.is_file()]
    with psycopg.connect(url) as conn:
        return [bytes(row[0]) for row in conn.execute("SELECT data FROM payload_chunks")]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_daemon_delivers_the_same_bytes_encrypted_and_stores_no_plaintext(
        request, tmp_path, backend):
    url = request.getfixturevalue("pg_url") if backend == "postgres" else None
    delivered = {}
    for mode in ("off", "on"):
        config, _ = folder_workspace(tmp_path / mode)
        text = config.read_text().replace('payloads = "on"', f'payloads = "{mode}"')
        if url is not None:
            empty_postgres(url)
            text = text.replace('store = "sqlite:///data/gateway.db"', f'store = "{url}"')
        config.write_text(text)
        segment = _segment(config)
        _run_once(config)
        delivered[mode] = outputs(tmp_path / mode / "pharmacies")
        kept = _stored(config, url)
        assert kept
        holding = [blob for blob in kept if segment in blob]
        if mode == "off":
            assert holding  # plaintext, as today's main keeps every payload
        else:
            assert not holding, "a payload is stored in plaintext with encryption on"
            with open_configured(load_settings(config)) as store:
                ((_, sealed),) = store.sealer.keys_in_use()  # one key id, every payload
            assert url is not None or sealed == len(kept)
    assert delivered["on"] and delivered["on"] == delivered["off"]
