"""Issue 10 defect 10, second half: a destination folder that cannot be written (made
immutable with ``chattr +i``, which refuses even root: EPERM) is retried with backoff and
delivered by the running daemon once it is writable again — no dead letter, no restart.
On main the permission error was permanent: a dead letter at once, waiting for an operator."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from conftest import require
from daemon_support import start_daemon, wait_for

from gateway.config.settings import load_settings
from gateway.ops.demo import folder_workspace, member_id
from gateway.store import open_configured
from gateway.store.models import DeliveryState


def _chattr(flag: str, path: Path) -> bool:
    chattr = shutil.which("chattr")
    return chattr is not None and subprocess.run(
        [chattr, flag, str(path)], capture_output=True).returncode == 0


def _states(config: Path, destination: str) -> list[DeliveryState]:
    with open_configured(load_settings(config), migrate=False) as store:
        return [d.state for d in store.list_deliveries(limit=1000)
                if d.destination == destination]


def test_an_unwritable_destination_heals_without_a_restart(tmp_path):
    config, samples = folder_workspace(tmp_path / "ws")
    with config.open("a") as toml:
        toml.write("[retry]\nbase_delay_seconds = 1\nmax_delay_seconds = 2\n")
    pharmacy = samples.pharmacies[0]
    inbox = tmp_path / "ws" / "pharmacies" / member_id(pharmacy) / "inbox"
    inbox.mkdir(parents=True)
    require(_chattr("+i", inbox), "chattr +i (root on ext4/xfs)",
            "run the tests as root on a file system with the immutable attribute")
    destination = f"folder:{inbox}"
    daemon = start_daemon(config, tmp_path / "daemon.log")
    try:
        wait_for(lambda: DeliveryState.FAILED in _states(config, destination), timeout=60,
                 what="a failed attempt at the immutable inbox", process=daemon.process)
        assert DeliveryState.DEAD not in _states(config, destination)
        assert not any(inbox.iterdir())
        assert _chattr("-i", inbox)
        wait_for(lambda: _states(config, destination)
                 and all(s is DeliveryState.DELIVERED for s in _states(config, destination)),
                 timeout=60, what="the retried delivery", process=daemon.process)
        assert [p for p in inbox.iterdir() if p.suffix == ".835"]
        assert daemon.stop() == 0
    finally:
        _chattr("-i", inbox)
        daemon.kill()
