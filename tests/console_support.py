"""The real daemon with its console, for the browser and API tests.

A workspace of two synthetic central pays (plus a re-sent copy and a broken file), one
pharmacy whose folder cannot be made (a part of its path is a file: a permanent error, so
its delivery is a dead letter at once), three accounts (viewer, operator, admin) made through
the service layer, and ``gateway run`` started as a process with the console on a free
loopback port (``gateway users add`` itself is tested in test_cli_operator.py).
Expectations come from the files on disk, not from the console's own words.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from daemon_support import REPO, DaemonProcess, big_workspace, free_port, start_daemon, wait_for

from gateway.config.settings import load_settings
from gateway.ops.demo import Samples, member_id
from gateway.service import Accounts
from gateway.store import MessageStore, open_configured
from gateway.store.models import DeliveryState
from gateway.store.operator_models import Role

PASSWORDS = {"vera": "viewer passphrase one", "olga": "operator passphrase two",
             "adam": "admin passphrase three"}
ROLES = {"vera": "viewer", "olga": "operator", "adam": "admin"}
ARTIFACTS = REPO / "tests" / "artifacts" / "console"  # gitignored; screenshots land here
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]


@dataclass
class Console:
    url: str
    root: Path
    config: Path
    samples: Samples
    daemon: DaemonProcess
    blocked: str  # the pharmacy id whose delivery is dead

    def store(self) -> MessageStore:
        return open_configured(load_settings(self.config), migrate=False)

    def folder(self, pharmacy_id: str) -> Path:
        return next(p for p in (self.root / "pharmacies").iterdir()
                    if p.name.startswith(pharmacy_id))


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/login", timeout=2):
            return True
    except OSError:
        return False


def _settled(config: Path) -> bool:
    with open_configured(load_settings(config), migrate=False) as store:
        depth = store.queue_depth()
    busy = (DeliveryState.PENDING, DeliveryState.LEASED, DeliveryState.FAILED)
    return bool(depth) and not any(d.state in busy for d in depth) and any(
        d.state is DeliveryState.DEAD for d in depth)


@contextmanager
def running_console(root: Path) -> Iterator[Console]:
    config, samples = big_workspace(root, files=2, payees=3, claims=6)
    port = free_port()
    text = config.read_text().replace('[console]\nlisten = "off"',
                                      f'[console]\nlisten = "127.0.0.1:{port}"')
    config.write_text(text)
    blocked = member_id(samples.pharmacies[-1])
    (root / "blocked").write_text("a file where the pharmacy's folder should be\n")
    roster = root / "partners" / "members.csv"
    lines = roster.read_text().splitlines()
    roster.write_text("\n".join(
        line.rsplit(",", 2)[0] + f",folder:{root / 'blocked' / 'inbox'},835"
        if line.startswith(blocked + ",") else line for line in lines) + "\n")
    with open_configured(load_settings(config)) as store:  # `gateway users add` does this
        accounts = Accounts(store, actor="operator:test")
        for name, password in PASSWORDS.items():
            accounts.add(name, password, Role(ROLES[name]))
    daemon = start_daemon(config, root / "daemon.log")
    console = Console(f"http://127.0.0.1:{port}", root, config, samples, daemon, blocked)
    try:
        wait_for(lambda: _up(console.url), timeout=60, what="the console", process=daemon.process)
        wait_for(lambda: _settled(config), timeout=60, what="every delivery settled",
                 process=daemon.process)
        yield console
    finally:
        daemon.stop()
