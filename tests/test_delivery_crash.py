"""Guaranteed delivery under SIGKILL (both back ends): nothing lost, nothing doubled, nothing torn.

A child process runs a delivery worker into folder sinks; the test kills it with SIGKILL at 50+
random moments — while claiming, writing a temp file, renaming, acking — and restarts it. At the
end every enqueued delivery exists exactly once under its final name, byte-identical, and the
store says delivered with the right SHA-256. Leases are 1 s so a killed worker's claim comes
back quickly.
"""

from __future__ import annotations

import hashlib
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
DELIVERIES = 240
KILLS = 55
LEASE_SECONDS = 1.0


def payload(n: int) -> bytes:
    """Deterministic, distinct, of varied size (a few bytes to ~200 KiB)."""
    rng = random.Random(n)
    return f"delivery {n}\n".encode() + rng.randbytes(rng.choice([10, 2_000, 60_000, 200_000]))


def start_worker(url: str, sink_root: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.Popen(
        [sys.executable, str(CHILD), url, str(sink_root), str(LEASE_SECONDS)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_sigkilled_workers_lose_nothing_and_double_nothing(store_url, tmp_path):
    sink_root = tmp_path / "sinks"
    expected: dict[Path, bytes] = {}
    with open_store(store_url) as store:
        for n in range(DELIVERIES):
            data = payload(n)
            file_id = _receive(store, tmp_path, n, data)
            doc = store.add_document(
                file_id,
                0,
                kind="835",
                routing_keys={},
                payload_sha256=hashlib.sha256(data).hexdigest(),
            )
            destination = f"pharmacy-{n % 6}"
            name = f"remit-{n:05d}.835"
            store.enqueue(doc.id, destination=destination, format="835", output_name=name)
            expected[sink_root / destination / name] = data

        rng = random.Random(20261123)
        for _ in range(KILLS):
            child = start_worker(store_url, sink_root)
            time.sleep(rng.uniform(0.05, 0.6))
            child.send_signal(signal.SIGKILL)
            child.wait()

        child = start_worker(store_url, sink_root)
        try:
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline:
                states = {d.state for d in store.list_deliveries(limit=DELIVERIES + 1)}
                if states == {DeliveryState.DELIVERED}:
                    break
                time.sleep(0.2)
        finally:
            child.kill()
            child.wait()

        deliveries = store.list_deliveries(limit=DELIVERIES + 1)
        assert len(deliveries) == DELIVERIES
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
    assert redone > 0, "no kill landed inside a delivery: the test proved nothing"


def _receive(store, tmp_path: Path, n: int, data: bytes) -> int:
    path = tmp_path / f"in-{n}"
    path.write_bytes(data)
    receipt = store.record_received(
        partner="pbm-a",
        remote_path=f"/out/{n}",
        original_name=f"{n}.835",
        size=len(data),
        mtime=None,
        sha256=hashlib.sha256(data).hexdigest(),
        payload_path=path,
    )
    path.unlink()
    return receipt.file.id
