"""Restart safety: stop the daemon mid-run — politely (SIGTERM) or not (SIGKILL at random
moments) — start it again, and the pharmacies end up with exactly what an undisturbed run
gives them, byte for byte: nothing lost, nothing doubled.

The reference is an undisturbed ``run --once`` on an identical workspace. Control numbers of
the re-enveloped 835s are assigned per part and remembered, and output names are
deterministic, so a redone delivery overwrites its earlier self with the same bytes.
"""

from __future__ import annotations

import random
import signal
import time

import pytest
from daemon_support import big_workspace, leftovers, outputs, start_daemon, wait_for

from gateway.config.settings import load_settings
from gateway.daemon.loop import Daemon
from gateway.store import open_configured
from gateway.store.models import DeliveryState, FileStatus

LEASE = 5  # seconds: a killed worker's delivery is redone this soon after
WORKLOAD = {"files": 16, "payees": 8, "claims": 40}  # ~150 deliveries, ~450 logged steps
LONG_WORKLOAD = {"files": 60, "payees": 8, "claims": 40}  # ~4 times that


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """What the pharmacies receive from an undisturbed run, per workload."""
    made: dict[tuple, dict[str, bytes]] = {}

    def undisturbed(workload: dict) -> dict[str, bytes]:
        key = tuple(sorted(workload.items()))
        if key not in made:
            root = tmp_path_factory.mktemp("reference")
            config, _ = big_workspace(root, **workload)
            assert Daemon(load_settings(config)).run(once=True) == 0
            made[key] = outputs(root / "pharmacies")
        return made[key]

    return undisturbed


def finish(config, log) -> None:
    """Restart as cron would (``run --once``) until the store says everything is done."""
    settings = load_settings(config)
    deadline = time.monotonic() + LEASE * 4 + 60
    while time.monotonic() < deadline:
        daemon = start_daemon(config, log, "--once")
        assert daemon.process.wait(timeout=120) == 0, daemon.log_lines()[-10:]
        store = open_configured(settings)
        try:
            waiting = [d for d in store.list_deliveries(limit=10_000)
                       if d.state is not DeliveryState.DELIVERED]
            unfinished = [f for f in store.list_files(limit=1000)
                          if f.status in (FileStatus.RECEIVED, FileStatus.PARSED)]
        finally:
            store.close()
        outbound = config.parent / "pbm" / "outbound"
        if not waiting and not unfinished and not any(outbound.iterdir()):
            return
        time.sleep(1)  # a killed worker's lease has to expire before its delivery is redone
    raise AssertionError(f"still waiting: {waiting[:3]} {unfinished[:3]}")


def check_complete(root, config, reference) -> None:
    got = outputs(root / "pharmacies")
    assert got.keys() == reference.keys(), (
        f"missing {sorted(reference.keys() - got.keys())[:3]}, "
        f"extra {sorted(got.keys() - reference.keys())[:3]}")
    different = [name for name in got if got[name] != reference[name]]
    assert not different, different[:3]
    # Only our own hidden temp files may be left where a write was cut short.
    assert all(p.name.startswith(".gateway-") for p in leftovers(root / "pharmacies"))
    store = open_configured(load_settings(config))
    try:
        assert not store.list_deliveries(state=DeliveryState.DEAD)
        firsts = [f for f in store.list_files(limit=1000) if f.status is not FileStatus.DUPLICATE]
        # Every file the PBM sent was taken and archived; a kill between archiving and
        # removing the original can leave a second archived copy (timestamp suffix), never
        # a lost one.
        archived = {p.name.split(".835")[0] + ".835" for p in (root / "pbm" / "archive").iterdir()}
        assert archived == {f.original_name for f in firsts} | {"era-99-resent.835"}
        assert len(firsts) == len(archived) - 1
    finally:
        store.close()
    # One 999 per accepted or refused file, never two (a truncated file also gets a TA1).
    acks = sorted(p.name.split(".835.")[0] for p in (root / "pbm" / "inbound").iterdir()
                  if not p.name.startswith(".") and p.suffix == ".999")
    assert acks == sorted(n.removesuffix(".835") for n in
                          (f.original_name for f in firsts))


def test_sigterm_mid_run_then_restart_completes(tmp_path, reference):
    expected = reference(WORKLOAD)
    root = tmp_path / "ws"
    config, _ = big_workspace(root, **WORKLOAD, lease_seconds=LEASE)
    log = tmp_path / "daemon.log"
    daemon = start_daemon(config, log)
    try:
        wait_for(lambda: len(outputs(root / "pharmacies")) >= 3, timeout=60,
                 what="the first deliveries", process=daemon.process)
        asked = time.monotonic()
        daemon.signal(signal.SIGTERM)
        assert daemon.process.wait(timeout=30) == 0
        assert time.monotonic() - asked < 10
    finally:
        daemon.kill()
    assert len(outputs(root / "pharmacies")) < len(expected), "stopped too late to matter"
    assert any("daemon stopped" in line for line in daemon.log_lines())
    finish(config, log)
    check_complete(root, config, expected)


def remaining_work(config) -> int:
    """Files not yet routed or refused, files still at the PBM, deliveries not delivered."""
    store = open_configured(load_settings(config))
    try:
        files = [f for f in store.list_files(limit=1000)
                 if f.status in (FileStatus.RECEIVED, FileStatus.PARSED)]
        deliveries = [d for d in store.list_deliveries(limit=10_000)
                      if d.state is not DeliveryState.DELIVERED]
    finally:
        store.close()
    return len(files) + len(deliveries) + len(list((config.parent / "pbm" / "outbound").iterdir()))


def chaos(tmp_path, expected: dict[str, bytes], workload: dict, kills: int, seed: int) -> None:
    """SIGKILL the daemon ``kills`` times in the middle of its work, then let it finish.

    A kill is timed by progress, not by the clock: a random number of log lines (each one a
    step: a file received, parsed, acknowledged, routed, a delivery written) after start,
    plus a random few milliseconds — so it lands inside the next step, wherever that is.
    Only kills that leave work behind count towards ``kills``.
    """
    root = tmp_path / "ws"
    config, _ = big_workspace(root, **workload, lease_seconds=LEASE)
    log = tmp_path / "daemon.log"
    rng = random.Random(seed)
    landed = attempts = 0
    while landed < kills:
        attempts += 1
        assert remaining_work(config) or attempts == 1, (
            f"only {landed} kills landed mid-work before it was all done: workload too small")
        seen = len(log.read_text().splitlines()) if log.exists() else 0
        daemon = start_daemon(config, log)
        steps = rng.randint(2, 9)
        deadline = time.monotonic() + 15  # an idle daemon logs nothing: then kill it anyway
        while len(daemon.log_lines()) < seen + steps and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.04))
        daemon.process.send_signal(signal.SIGKILL)
        daemon.process.wait(timeout=10)
        landed += remaining_work(config) > 0
    finish(config, log)
    check_complete(root, config, expected)


def test_sigkill_at_random_moments_loses_and_doubles_nothing(tmp_path, reference):
    chaos(tmp_path, reference(WORKLOAD), WORKLOAD, kills=20, seed=20261123)


@pytest.mark.slow
def test_sigkill_chaos_long(tmp_path, reference):
    chaos(tmp_path, reference(LONG_WORKLOAD), LONG_WORKLOAD, kills=60, seed=7)
