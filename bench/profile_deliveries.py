"""What one delivery costs, step by step, in workload B of bench_scale.py (one single-ST
central pay to 1,000 pharmacies, one ``run --once`` on a fresh PostgreSQL store).

The cycle runs in this process; during ``DeliveryPool.drain`` only, each step of a delivery
is timed per call (wall: ``perf_counter``, CPU: ``process_time``) by wrapping the functions
that do it — no profiler, so the figures are the steps' own cost, not a sampler's:

    .venv/bin/python bench/profile_deliveries.py 100000

Printed: per step, calls, total and mean wall and CPU; and the drain's own total. Steps are
nested (indented under what calls them); a step a checkout does not have is left out, so the
same script measures an older checkout: ``PYTHONPATH=<checkout> .venv/bin/python
bench/profile_deliveries.py``.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_scale

_WALL: dict[str, float] = defaultdict(float)
_CPU: dict[str, float] = defaultdict(float)
_CALLS: dict[str, int] = defaultdict(int)
_ON = [False]


def timed(owner: Any, name: str, label: str) -> None:
    """Replace ``owner.name`` with a wrapper that adds its calls' time to ``label``."""
    original: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not _ON[0]:
            return original(*args, **kwargs)
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            _WALL[label] += time.perf_counter() - wall
            _CPU[label] += time.process_time() - cpu
            _CALLS[label] += 1

    setattr(owner, name, wrapper)


def instrument() -> None:
    from gateway.daemon import deliver, pool
    from gateway.store import postgres, postgres_connection
    from gateway.store.crypt import envelopes
    from gateway.transport import folder

    timed(pool.DeliveryPool, "drain", "drain (all of it)")
    drain = pool.DeliveryPool.drain

    def switched(self: Any) -> bool:
        _ON[0] = True
        try:
            return bool(drain(self))
        finally:
            _ON[0] = False

    pool.DeliveryPool.drain = switched  # type: ignore[method-assign]
    timed(deliver.DeliveryWorker, "run_once", "run_once (one delivery)")
    for name in ("claim", "ack", "ack_and_claim", "open_claimed", "open_payload"):
        if hasattr(postgres.PostgresStore, name):
            timed(postgres.PostgresStore, name, f"store.{name}")
    timed(postgres_connection.PostgresConnection, "one", "  round trip (connection.one)")
    timed(envelopes.PayloadSealer, "open", "  sealer.open")
    timed(deliver.DeliveryWorker, "_write", "worker._write (render + deliver)")
    timed(folder.FolderSink, "deliver", "  FolderSink.deliver")
    timed(os, "fsync", "    os.fsync (file and directory)")
    timed(os, "replace", "    os.replace")


def main() -> None:
    claims = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    instrument()
    with bench_scale.big_file_cycle(claims) as (run_once, url):
        run_once()
        deliveries = bench_scale.figures(url)["deliveries"]
    print(f"{deliveries:,} deliveries, load average {os.getloadavg()[0]:.1f}")
    print(f"{'step':40} {'calls':>6} {'wall s':>7} {'CPU s':>7} {'wall ms/call':>12} "
          f"{'CPU ms/call':>11}")
    for label in _WALL:
        calls = _CALLS[label]
        print(f"{label:40} {calls:6} {_WALL[label]:7.2f} {_CPU[label]:7.2f} "
              f"{1000 * _WALL[label] / calls:12.3f} {1000 * _CPU[label] / calls:11.3f}")


if __name__ == "__main__":
    main()
