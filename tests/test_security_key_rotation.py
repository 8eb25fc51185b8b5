"""Key rotation and sealing old plaintext through ``gateway keys`` (issue 13, Security), on
both back ends: a new key, the old one as a previous key, ``rotate`` re-wraps (idempotent),
then the old key is retired and every payload still reads; ``encrypt-existing`` seals what
was kept before encryption was on."""

from __future__ import annotations

import io

import pytest
from store_backends import empty_postgres

from gateway.cli import main
from gateway.config.settings import load_settings
from gateway.errors import GatewayError
from gateway.ops.demo import folder_workspace
from gateway.store import open_configured, open_store

MARKER = b"CLP*SYNTHETIC-CLAIM-0001*1*100*80**12*ABC~"


@pytest.fixture(params=["sqlite", "postgres"])
def workspace(request, tmp_path):
    config, _ = folder_workspace(tmp_path / "ws")
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
        empty_postgres(url)
        config.write_text(config.read_text().replace('store = "sqlite:///data/gateway.db"',
                                                     f'store = "{url}"'))
    with open_configured(load_settings(config), migrate=True):
        pass
    return config


def _keys(config, current: str, previous: list[str]) -> None:
    text = config.read_text()
    head, _, _ = text.partition("[encryption]")
    olds = ", ".join(f'"file:{p}"' for p in previous)
    config.write_text(head + f'[encryption]\npayloads = "on"\nkey = "file:{current}"\n'
                      f"previous_keys = [{olds}]\n")


def test_rotate_rewraps_and_the_old_key_can_be_retired(workspace, capsys):
    config = workspace
    old = config.parent / "keys" / "payload.key"
    with open_configured(load_settings(config)) as store:
        payloads = {store.put_payload(io.BytesIO(MARKER * n)): MARKER * n for n in (1, 2, 3)}
    new = config.parent / "keys" / "payload-2027.key"
    assert main(["keys", "new", str(new)]) == 0
    assert main(["keys", "new", str(new)]) == 2  # never overwritten
    capsys.readouterr()
    _keys(config, str(new), [str(old)])
    assert main(["keys", "rotate", "--config", str(config)]) == 0
    assert "re-wrapped 3 data key(s)" in capsys.readouterr().out
    assert main(["keys", "rotate", "--config", str(config)]) == 0  # idempotent
    assert "re-wrapped 0 data key(s)" in capsys.readouterr().out
    assert main(["keys", "id", str(new)]) == 0
    new_id = capsys.readouterr().out.strip()
    assert main(["keys", "status", "--config", str(config)]) == 0
    status = capsys.readouterr().out
    assert f"{new_id}         3 payloads  (current)" in status
    _keys(config, str(new), [])  # the old key retired
    old.unlink()
    with open_configured(load_settings(config)) as store:
        for sha256, data in payloads.items():
            with store.open_payload(sha256) as stream:
                assert stream.read() == data


def test_encrypt_existing_seals_what_was_kept_in_plaintext(workspace, capsys):
    config = workspace
    settings = load_settings(config)
    with open_store(settings.store_url) as plain:  # as before encryption was on
        sha256 = plain.put_payload(io.BytesIO(MARKER * 7))
    assert main(["keys", "encrypt-existing", "--config", str(config)]) == 0
    assert "sealed 1 plaintext payload(s)" in capsys.readouterr().out
    assert main(["keys", "encrypt-existing", "--config", str(config)]) == 0
    assert "sealed 0 plaintext payload(s)" in capsys.readouterr().out
    with open_configured(settings) as store:
        assert [count for _, count in store.sealer.keys_in_use()] == [1]
        with store.open_payload(sha256) as stream:
            assert stream.read() == MARKER * 7
    with open_store(settings.store_url) as keyless, pytest.raises(GatewayError, match="--config"):
        keyless.open_payload(sha256)
