"""Guaranteed delivery under SIGKILL (both back ends): nothing lost, nothing doubled, nothing torn.

A child process runs a delivery worker into folder sinks; the test kills it with SIGKILL at 50+
random moments once it is at work — while claiming, writing a temp file, renaming, acking —
and restarts it. At the
end every enqueued delivery exists exactly once under its final name, byte-identical, and the
store says delivered with the right SHA-256. Leases are 1 s so a killed worker's claim comes
back quickly.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from gateway.store import DeliveryState, open_store
from gateway.transport.folder import TEMP_PREFIX, TEMP_SUFFIX

CHILD = Path(__file__).with_name("delivery_crash_child.py")
KILLS = 52
PER_KILL = 20
LEASE_SECONDS = 1.0
# How long after the worker's first claim of a round it is killed, at most. A round's 20
# deliveries take ~50 ms on an idle machine: a longer window lets most kills land after the
# work is done (then they prove nothing, and the check at the end fails on a quiet machine).
KILL_WINDOW = 0.05


def payload(n: int) -> bytes:
    """Deterministic, distinct, of varied size (a few bytes to ~40 KB)."""
    rng = random.Random(n)
    return f"delivery {n}\n".encode() + rng.randbytes(rng.choice([10, 500, 4_000, 40_000]))


def start_worker(url: str, sink_root: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.Popen(
        [sys.executable, str(CHILD), url, str(sink_root), str(LEASE_SECONDS)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


def start_worker_ready(url: str, sink_root: Path) -> subprocess.Popen:
    """Start a worker and wait until it has opened the store (imports take ~0.5 s here)."""
    child = start_worker(url, sink_root)
    assert child.stdout is not None and child.stdout.readline() == b"ready\n"
    return child


def test_sigkilled_workers_lose_nothing_and_double_nothing(store_url, tmp_path):
    sink_root = tmp_path / "sinks"
    expected: dict[Path, bytes] = {}
    rng = random.Random(20261123)
    with open_store(store_url) as store:
        file_id = _receive(store, tmp_path)
        for kill in range(KILLS):
            # New work arrives while the worker is being killed, so every kill has work to hit.
            for n in range(kill * PER_KILL, (kill + 1) * PER_KILL):
                expected.update(_enqueue(store, file_id, n, sink_root))
            progress = _progress(store)
            child = start_worker_ready(store_url, sink_root)
            _wait_until_working(store, progress)
            time.sleep(rng.uniform(0.0, KILL_WINDOW))
            child.send_signal(signal.SIGKILL)
            child.wait()

        child = start_worker(store_url, sink_root)
        try:
            # The last worker must drain everything; it is given up on only when it stops
            # making progress for 40 s (a fixed deadline failed on a loaded machine).
            last, deadline = _progress(store), time.monotonic() + 40
            while time.monotonic() < deadline:
                states = {d.state for d in store.list_deliveries(limit=len(expected) + 1)}
                if states == {DeliveryState.DELIVERED}:
                    break
                if (now := _progress(store)) != last:
                    last, deadline = now, time.monotonic() + 40
                time.sleep(0.2)
        finally:
            child.kill()
            child.wait()

        deliveries = store.list_deliveries(limit=len(expected) + 1)
        assert len(deliveries) == len(expected) == KILLS * PER_KILL
        assert {d.state for d in deliveries} == {DeliveryState.DELIVERED}
        for delivery in deliveries:
            final = sink_root / delivery.destination / delivery.output_name
            assert delivery.output_sha256 == hashlib.sha256(expected[final]).hexdigest()
        redone = sum(d.attempts > 1 for d in deliveries)

    visible = sorted(p for p in sink_root.rglob("*") if p.is_file())
    final_names = [p for p in visible if not p.name.startswith(TEMP_PREFIX)]
    assert sorted(final_names) == sorted(expected), "every delivery exactly once, nothing else"
    for path in final_names:
        assert path.read_bytes() == expected[path], f"{path} is not byte-identical"
    leftovers = [p for p in visible if p.name.startswith(TEMP_PREFIX)]
    assert all(p.name.endswith(TEMP_SUFFIX) for p in leftovers)  # hidden temp files only
    print(f"{KILLS} kills: {redone} deliveries redone, {len(leftovers)} temp files left")
    assert redone > KILLS // 5, "too few kills landed inside a delivery to prove anything"


def _progress(store) -> tuple[int, int]:
    """(pending, delivered): once either moves, the worker has claimed something."""
    counts = {state: 0 for state in DeliveryState}
    for depth in store.queue_depth():
        counts[depth.state] += depth.count
    return counts[DeliveryState.PENDING], counts[DeliveryState.DELIVERED]


def _wait_until_working(store, before: tuple[int, int]) -> None:
    """Wait (up to 5 s) for the worker's first claim, so the kill lands inside its work and
    not in its start-up, however loaded the machine is."""
    deadline = time.monotonic() + 5
    while _progress(store) == before and time.monotonic() < deadline:
        time.sleep(0.002)


def _enqueue(store, file_id: int, n: int, sink_root: Path) -> dict[Path, bytes]:
    data = payload(n)
    sha = store.put_payload(io.BytesIO(data))
    doc = store.add_document(file_id, n, kind="835", routing_keys={}, payload_sha256=sha)
    destination, name = f"pharmacy-{n % 6}", f"remit-{n:05d}.835"
    store.enqueue(doc.id, destination=destination, format="835", output_name=name)
    return {sink_root / destination / name: data}


def _receive(store, tmp_path: Path) -> int:
    path = tmp_path / "central-pay.835"
    path.write_bytes(b"a central pay file")
    return store.record_received(
        partner="pbm-a",
        remote_path="/out/central-pay.835",
        original_name="central-pay.835",
        size=path.stat().st_size,
        mtime=None,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        payload_path=path,
    ).file.id
