"""The claims ledger's share of the daemon's parse stage, on its own: the CPU of this process
turning every item of one single-ST central pay (1,000 pharmacies) into ledger rows.

* ``facts``: :class:`gateway.reconcile.facts.X12Facts` over the items, rows thrown away.
* ``listener``: the parse stage's sink (:class:`gateway.reconcile.recorder.LedgerRecorder`'s
  listener) fed every item, then the file's ingest completed: facts plus the COPY batches
  into a throwaway PostgreSQL database on 127.0.0.1 (its server's CPU is not counted).

The items are read once, before any timing (the reader's cost is not the ledger's). Run it
against another tree with ``PYTHONPATH=<tree>``, alternating, to compare in one window::

    .venv/bin/python bench/bench_ledger_facts.py 100000 --repeat 3
    PYTHONPATH=/path/to/main .venv/bin/python bench/bench_ledger_facts.py 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_scale

import gateway
from gateway.config.members import load_roster
from gateway.log import configure
from gateway.reconcile.config import load_reconcile_config
from gateway.reconcile.facts import X12Facts
from gateway.reconcile.pharmacies import roster_pharmacy_of
from gateway.reconcile.recorder import LedgerRecorder
from gateway.store import open_store
from gateway.synth.x12_835 import Spec, write_835_file
from gateway.x12.read.reader import iter_835

PARTNER = "pbm"


def sample(claims: int) -> tuple[Path, Path]:
    """The 835 and its roster (members.csv), written once per size under the temp dir."""
    folder = Path(tempfile.gettempdir()) / "bench_ledger_facts"
    folder.mkdir(exist_ok=True)
    path, members = folder / f"single-st-{claims}.835", folder / f"members-{claims}.csv"
    if not path.exists() or not members.exists():
        summary = write_835_file(str(path) + ".part", Spec(
            shape="single-st", payees=1000, claims=claims, seed=5))
        rows = ["pharmacy_id,name,npi,ncpdp_id,tin,active,destination,formats"]
        rows += [f"{p.pharmacy_id},{p.name},{p.npi},{p.ncpdp_id},{p.tin},true,"
                 f"folder:{folder / 'ph' / p.pharmacy_id},835" for p in summary.pharmacies]
        members.write_text("\n".join(rows) + "\n")
        Path(str(path) + ".part").rename(path)
    return path, members


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("claims", type=int, nargs="?", default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-db", action="store_true", help="only the facts, no PostgreSQL")
    args = parser.parse_args()
    configure(json=True, file=sys.stderr, level=logging.WARNING)
    path, members = sample(args.claims)
    with path.open("rb") as stream:
        items = list(iter_835(stream, file_name=path.name))
    config = load_reconcile_config(None)
    pharmacy_of = roster_pharmacy_of(load_roster(members))
    print(f"{gateway.__file__}: {path.name}, {path.stat().st_size / 1e6:.0f} MB, "
          f"{len(items)} items")
    facts_cpu, rows = [], 0
    for _ in range(args.repeat):
        facts = X12Facts(1, PARTNER, config, pharmacy_of)
        rows, cpu = 0, time.process_time()
        for item in items:
            for _fact in facts.of(item):
                rows += 1
        facts_cpu.append(time.process_time() - cpu)
    print(f"facts    {rows} rows: CPU s {_figures(facts_cpu)}")
    if not args.no_db:
        times, walls = _listener(path, items, config, pharmacy_of, args.repeat)
        print(f"listener {rows} rows: CPU s {_figures(times)}; wall s {_figures(walls)}")


def _listener(path, items, config, pharmacy_of, repeat: int
              ) -> tuple[list[float], list[float]]:
    url = bench_scale.database()
    try:
        import psycopg

        with open_store(url) as store:
            data = path.read_bytes()
            received = store.record_received(
                partner=PARTNER, remote_path=str(path), original_name=path.name,
                size=len(data), mtime=None, sha256=hashlib.sha256(data).hexdigest(),
                payload_path=path).file
            del data
            recorder = LedgerRecorder(store, config, pharmacy_of)
            times, walls = [], []
            for _ in range(repeat):
                with psycopg.connect(url, autocommit=True) as db:  # taken in again, from 0
                    db.execute("DELETE FROM ledger_files WHERE file_id = %s", (received.id,))
                listening = recorder.listen(received)
                cpu, wall = time.process_time(), time.perf_counter()
                for item in items:
                    listening(item)
                recorder(received)  # the last batches in, the file complete
                times.append(time.process_time() - cpu)
                walls.append(time.perf_counter() - wall)
                assert listening.state == "ingesting", listening.state  # never read again
            return times, walls
    finally:
        bench_scale.drop(url)


def _figures(times: list[float]) -> str:
    return (f"min {min(times):.2f}, median {statistics.median(times):.2f} "
            f"({', '.join(f'{t:.2f}' for t in times)})")


if __name__ == "__main__":
    main()
