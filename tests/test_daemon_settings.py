"""gateway.toml: defaults, relative paths, and errors that name file, key and fix."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from gateway.config.settings import load_settings
from gateway.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(text)
    return path


def test_defaults_resolve_relative_to_the_config_directory(tmp_path):
    settings = load_settings(write(tmp_path, ""))
    assert settings.data_dir == tmp_path.resolve() / "data"
    assert settings.partners_dir == tmp_path.resolve() / "partners"
    assert settings.store_url == "sqlite:///" + str(tmp_path.resolve() / "data" / "gateway.db")
    assert settings.listen == ("127.0.0.1", 9464)
    assert settings.workers == 2
    assert settings.log_level == logging.INFO


def test_a_full_file(tmp_path):
    settings = load_settings(write(tmp_path, """
holidays = [2026-12-25]
[gateway]
store = "sqlite:///state/q.db"
workers = 4
timezone = "America/Chicago"
[http]
listen = "off"
[logging]
level = "debug"
format = "json"
"""))
    assert settings.store_url.endswith("/state/q.db") and settings.store_url.startswith(
        "sqlite:////")
    assert settings.listen is None
    assert settings.workers == 4
    assert str(settings.timezone) == "America/Chicago"
    assert settings.holidays == frozenset({date(2026, 12, 25)})


@pytest.mark.parametrize(
    ("text", "where", "fix"),
    [
        ("[gateway]\nworkerz = 3\n", "[gateway] workerz", "known keys"),
        ("[gateway]\nworkers = 0\n", "[gateway] workers", "workers = 2"),
        ("[gateway]\nstore = \"mysql://x\"\n", "[gateway] store", "postgresql://"),
        ("[http]\nlisten = \"9464\"\n", "[http] listen", "127.0.0.1:9464"),
        ("[logging]\nlevel = \"loud\"\n", "[logging] level", "debug"),
        ("[gateway]\ntimezone = \"Mars/Olympus\"\n", "[gateway] timezone", "America/Chicago"),
        ("[psao]\nisa_id = \"X\"\n", "psao", "known keys"),
        ("holidays = [\"Christmas\"]\n", "holidays", "2026-12-25"),
        ("[gateway\n", "gateway.toml", "syntax"),
        ("[logging]\nholidays = [2026-12-25]\n", "[logging] holidays", "above the first"),
    ],
)
def test_errors_name_file_key_and_fix(tmp_path, text, where, fix):
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text))
    message = str(caught.value)
    assert str(tmp_path.resolve() / "gateway.toml") in message or "gateway.toml" in message
    assert where in message
    assert fix in message


def test_missing_file_says_how_to_make_one(tmp_path):
    with pytest.raises(ConfigError, match="gateway init"):
        load_settings(tmp_path / "nope.toml")


def test_the_contrib_files_stay_valid():
    """contrib/gateway.toml loads, and the systemd unit only calls commands that exist."""
    from conftest import REPO

    from gateway.cli import build_parser

    settings = load_settings(REPO / "contrib" / "gateway.toml")
    assert settings.store_url.startswith("postgresql://") and settings.workers == 4
    unit = (REPO / "contrib" / "gateway.service").read_text()
    commands = [line.split("=", 1)[1].split()[1:] for line in unit.splitlines()
                if line.startswith(("ExecStart=", "ExecStartPre="))]
    assert [c[0] for c in commands] == ["check", "run"]
    for command in commands:
        build_parser().parse_args(command)  # argparse exits on an unknown option
