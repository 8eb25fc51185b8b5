"""The README's quickstart, run as a newcomer runs it: a copy of the checkout, a fresh
virtual environment, ``pip install -e .``, ``gateway demo`` — the command is read from
README.md itself, so the README cannot drift from what works."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from conftest import REPO

IGNORED = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", "build", "demo",
                                 ".pytest_cache", ".ruff_cache", "bench")


def readme_command(section: str, marker: str) -> str:
    """The one indented command line of README.md's ``## section`` containing ``marker``."""
    readme = (REPO / "README.md").read_text()
    text = readme.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    commands = [line.strip() for line in text.splitlines()
                if line.startswith("    ") and marker in line]
    assert len(commands) == 1, f"expected one {section} command with `{marker}`: {commands}"
    return commands[0]


def quickstart_command() -> str:
    return readme_command("Quickstart", "gateway demo")


def test_ci_runs_the_readme_test_command_with_type_and_lint_checks():
    """.ci/run must run the README's test command verbatim, and that command checks types
    and lint before the tests."""
    command = readme_command("Tests", "pytest")
    ci_lines = (REPO / ".ci" / "run").read_text().splitlines()
    assert command in ci_lines, f".ci/run does not run the README's test command: {command}"
    checks = command.split(" && ")
    assert checks.index(".venv/bin/mypy") < checks.index(".venv/bin/python -m pytest")
    assert checks.index(".venv/bin/ruff check .") < checks.index(".venv/bin/python -m pytest")


def copy_checkout(target: Path) -> Path:
    """What a newcomer has after cloning: the tracked and new files, nothing we built."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO,
                            capture_output=True, text=True)
    if listed.returncode != 0:  # not a git checkout (an unpacked archive): copy the tree
        shutil.copytree(REPO, target, ignore=IGNORED)
        return target
    for name in listed.stdout.splitlines():
        source = REPO / name
        if source.is_file() and not name.startswith("bench/"):
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def test_readme_quickstart_shows_the_demo_working(tmp_path):
    command = quickstart_command()
    assert command.startswith("python3 -m venv .venv && .venv/bin/pip install -q -e .")
    checkout = copy_checkout(tmp_path / "checkout")
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    result = subprocess.run(command, shell=True, cwd=checkout, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    out = result.stdout
    # What a newcomer should see: every file accounted for, each pharmacy's part delivered.
    assert re.search(r"era-20260105-multi\.835\s+routed", out)
    assert re.search(r"era-20260105-central\.835\s+routed", out)
    assert re.search(r"era-20260105-resent\.835\s+duplicate", out)
    assert re.search(r"era-20260105-broken\.835\s+quarantined", out)
    demo = checkout / "demo"
    inboxes = sorted((demo / "pharmacies").glob("*/inbox"))
    assert len(inboxes) == 6 and all(any(i.glob("*.835")) for i in inboxes)
    assert len(list((demo / "pbm" / "inbound").glob("*.999"))) == 3
    for inbox in inboxes:  # each pharmacy's line in the report names its files
        for delivered in inbox.iterdir():
            assert delivered.name in out
    # The claims ledger was filled by the pipeline as each file was routed (issue 11): every
    # demo pharmacy's claims are reconciled, with a short payment and an unpaid claim each.
    summary = out.split("RECONCILIATION", 1)[1]
    assert len(re.findall(r"\d+ claims: \d+ paid, 1 short-paid, 1 unpaid", summary)) == 6
    assert "Traceback" not in result.stderr
