"""The mistakes an operator makes on the embedded defaults (the `gateway demo` workspace:
SQLite, local folders): each gives one located message — file, line, key — and the fix,
never a traceback. Found by following README.md on a fresh machine (issue 13, operator
polish)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.cli.codes import EXIT_INVALID, EXIT_USAGE

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, str]:
    """The README's one-command set-up and run, as the operator runs it (its own process:
    the daemon's logging set-up stays out of this one); its output."""
    root = tmp_path_factory.mktemp("ops") / "demo"
    done = subprocess.run([sys.executable, "-m", "gateway", "demo", "--dir", str(root)],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    return root, done.stdout


@pytest.fixture
def workspace(demo, tmp_path) -> Path:
    """A copy of the demo workspace to break (its paths still point at the demo's folders,
    which these tests only read)."""
    copy = tmp_path / "ws"
    shutil.copytree(demo[0], copy, ignore=shutil.ignore_patterns("data"))
    shutil.copytree(demo[0] / "data", copy / "data")
    return copy


def gateway(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_demo_says_what_became_of_the_claim_files(demo):
    """Claim files go to the claims ledger; '50 pharmacy part(s) → 0/0 delivered' read as a
    failure to deliver."""
    out = demo[1]
    line = next(x for x in out.splitlines() if "claims-20260105.ncpdp" in x)
    assert "recorded in the claims ledger" in line and "0/0 delivered" not in line


def test_a_misspelt_key_in_gateway_toml_names_line_key_and_the_likely_one(workspace, capsys):
    toml = workspace / "gateway.toml"
    toml.write_text(toml.read_text().replace("workers = 2", "wrokers = 2"))
    code, _, err = gateway(capsys, "check", "--config", str(workspace))
    line = next(n for n, x in enumerate(toml.read_text().splitlines(), 1) if "wrokers" in x)
    assert code == EXIT_USAGE and "Traceback" not in err
    assert f"{toml}:{line}: [gateway] wrokers: unknown key" in err
    assert "did you mean 'workers'?" in err


def test_a_misspelt_table_in_gateway_toml_is_found_at_its_header(workspace, capsys):
    toml = workspace / "gateway.toml"
    toml.write_text(toml.read_text().replace("[http]", "[htp]"))
    code, _, err = gateway(capsys, "status", "--config", str(workspace))
    line = next(n for n, x in enumerate(toml.read_text().splitlines(), 1) if "[htp]" in x)
    assert code == EXIT_USAGE
    assert f"{toml}:{line}: htp: unknown key" in err and "did you mean 'http'?" in err


def test_a_duplicate_ncpdp_id_in_the_roster_names_both_lines_and_the_fix(workspace, capsys):
    roster = workspace / "partners" / "members.csv"
    lines = roster.read_text().splitlines()
    header = lines[0].split(",")
    column = header.index("ncpdp_id")
    first, second = lines[1].split(","), lines[2].split(",")
    second[column] = first[column]
    lines[2] = ",".join(second)
    roster.write_text("\n".join(lines) + "\n")
    code, _, err = gateway(capsys, "check", "--config", str(workspace))
    assert code == EXIT_USAGE and "Traceback" not in err
    assert f"{roster}:3: ncpdp_id: '{first[column]}' is already used on line 2" in err
    assert "remove or correct the duplicate" in err


def test_a_missing_configuration_directory_names_it_and_gateway_init(tmp_path, capsys):
    code, _, err = gateway(capsys, "status", "--config", str(tmp_path / "nowhere"))
    assert code == EXIT_USAGE
    assert "nowhere: configuration file not found" in err and "gateway init DIR" in err


@pytest.mark.parametrize("argv", [["trace", "F999"], ["export", "--file", "F999"],
                                  ["files", "retry", "F999"]])
def test_an_unknown_file_id_points_to_the_file_list(workspace, capsys, argv, tmp_path):
    extra = ["--out", str(tmp_path / "x.zip")] if argv[0] == "export" else []
    code, _, err = gateway(capsys, *argv, *extra, "--config", str(workspace))
    assert code == EXIT_INVALID and "Traceback" not in err
    assert "there is no file 999" in err and "`gateway files list`" in err


def test_an_unknown_delivery_id_points_to_the_delivery_list(workspace, capsys):
    code, _, err = gateway(capsys, "trace", "D999", "--config", str(workspace))
    assert code == EXIT_INVALID
    assert "there is no delivery 999" in err and "`gateway deliveries list`" in err


def test_users_add_without_a_terminal_says_to_use_password_stdin(workspace, capsys,
                                                                   monkeypatch):
    """getpass read the piped line as the first password and raised EOFError (a traceback)
    on the second."""
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-passphrase\n"))
    code, _, err = gateway(capsys, "users", "add", "alice", "--role", "operator",
                           "--config", str(workspace))
    assert code == EXIT_USAGE and "Traceback" not in err
    assert "no terminal to ask for the password" in err and "--password-stdin" in err
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-passphrase\n"))
    code, _, err = gateway(capsys, "users", "add", "alice", "--role", "operator",
                           "--password-stdin", "--config", str(workspace))
    assert code == 0, err


def test_a_store_the_daemon_has_not_made_yet_is_named_with_its_config_key(workspace, capsys):
    """The store's own message asked for --config — already given."""
    shutil.rmtree(workspace / "data")
    toml = (workspace / "gateway.toml").resolve()
    for argv in (["status"], ["trace", "F1"], ["files", "list"]):
        code, _, err = gateway(capsys, *argv, "--config", str(workspace))
        assert code == EXIT_USAGE, argv
        assert f"{toml}: [gateway] store: there is no store at" in err, err
        assert f"`gateway run --config {toml}`" in err and "pass --config" not in err
    code, out, _ = gateway(capsys, "check", "--config", str(workspace), "--offline")
    assert code == 0 and "created, empty (the daemon had not run with it yet)" in out
