"""Shared test fixtures.

Real components only: the ../shared corpus, a real sshd, a real PostgreSQL. When one is
missing a test skips with a reason that says how to get it — except under CI=true, where a
missing component fails the run (a green CI must mean the tests really ran).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from store_backends import pg_url, store, store_url  # noqa: F401  (message store fixtures)

# phi: the PHI scanner over the end-to-end tests (tests/phi.py); pytester: its own test.
pytest_plugins = ["phi", "pytester"]

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("GATEWAY_SHARED", REPO.parent / "shared"))
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


_STRUCTLOG_AT_START = structlog.get_config()


@pytest.fixture(autouse=True)
def _logging_as_at_start() -> Iterator[None]:
    """Each test ends with logging as it was when the session began. A command run in-process
    (``main([...])``, also in a module-scoped fixture) configures structlog and the root logger
    with the stream of that moment — pytest's capture, closed when the test ends — and a later
    test that logs would write to a closed file."""
    root = logging.getLogger()
    handlers, level, hook = root.handlers[:], root.level, threading.excepthook
    yield
    structlog.configure(**_STRUCTLOG_AT_START)
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)
    threading.excepthook = hook


def require(available: bool, what: str, how: str) -> None:
    """Skip (newcomer's machine) or fail (CI) when a real component is missing."""
    if available:
        return
    message = f"{what} is not available: {how}"
    if IN_CI:
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def shared_corpus() -> Path:
    """The ../shared/corpus directory of public sample files (never copied into the repo)."""
    corpus = SHARED / "corpus"
    require(
        corpus.is_dir(),
        f"the shared corpus ({corpus})",
        "check out the project's shared/ folder beside the repository or set GATEWAY_SHARED",
    )
    return corpus


@pytest.fixture(scope="session")
def sshd_server(tmp_path_factory: pytest.TempPathFactory):
    """A real OpenSSH sshd on 127.0.0.1 with its own keys (see tests/sshd.py for its API)."""
    from sshd import INSTALL_HINT, SSHD, running_sshd, sshd_available

    require(sshd_available(), f"OpenSSH sshd ({SSHD})", INSTALL_HINT)
    with running_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server
