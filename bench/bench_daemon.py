"""What one daemon cycle costs, against reading the same file once.

A synthetic single-ST central pay (the PSAO is the payee; every pharmacy is split out of the
one transaction set) is dropped in a PBM folder; the daemon runs one cycle (``run --once``):
receive (copy, hash, keep in the SQLite store), parse (collecting findings), 999, split per
pharmacy, route, deliver every part into its pharmacy's folder (fsync, rename). The baseline
is ``iter_835`` over the same file — one streaming parse, the least the daemon must do. Each
run is its own child process: CPU seconds and peak RSS (ru_maxrss) are that child's.

    .venv/bin/python bench/bench_daemon.py --claims 20000 60000 --pharmacies 200
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def child(kind: str, path: Path) -> None:
    """Run one measurement in this (child) process and print it as JSON."""
    started, cpu = time.perf_counter(), time.process_time()
    if kind == "parse":
        from gateway.model import ClaimPayment
        from gateway.x12.read.reader import iter_835

        with path.open("rb") as stream:
            count = sum(isinstance(item, ClaimPayment) for item in iter_835(stream))
    else:
        from gateway.config.settings import load_settings
        from gateway.daemon.loop import Daemon
        from gateway.log import configure
        from gateway.store import open_store

        settings = load_settings(path)
        with (path.parent / "daemon.log").open("w") as log:
            configure(json=True, file=log, level=logging.WARNING)
            assert Daemon(settings).run(once=True) == 0
        with open_store(settings.store_url) as store:
            count = len(store.list_deliveries(limit=100_000))
    print(json.dumps({
        "cpu": time.process_time() - cpu, "wall": time.perf_counter() - started,
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "count": count,
    }))


def workspace(root: Path, claims: int, pharmacies: int, shape: str) -> tuple[Path, Path]:
    """A folder PBM holding one central pay, and the daemon's config; returns both paths."""
    from gateway.ops.demo import SampleFile, Samples, folder_inbound, member_id, write_workspace
    from gateway.synth.x12_835 import Spec, write_835_file

    outbound = root / "pbm" / "outbound"
    outbound.mkdir(parents=True)
    (root / "pbm" / "inbound").mkdir()
    file = outbound / "central.835"
    summary = write_835_file(str(file), Spec(shape=shape, payees=pharmacies, claims=claims,
                                             seed=5))
    psao = summary.sets[0].payee_npi if shape == "single-st" else "1999999992"
    samples = Samples((SampleFile(file.name, "central pay", summary),),
                      tuple(summary.pharmacies), psao)
    config = write_workspace(
        root, samples, inbound=folder_inbound(root / "pbm", settle_seconds=0.1),
        outbound=f'type = "folder"\npath = "{root / "pbm" / "inbound"}"\n',
        destinations={p.npi: f"folder:{root / 'ph' / member_id(p)}" for p in summary.pharmacies})
    return file, config


def measure(kind: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(path)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, nargs="+", default=[20_000, 60_000])
    parser.add_argument("--pharmacies", type=int, default=200)
    parser.add_argument("--shapes", nargs="+", default=["single-st", "multi-st"])
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    print("| shape | claims | file MB | run | CPU s | wall s | x baseline (CPU) | "
          "peak RSS MiB | claims or deliveries |")
    print("|---|---|---|---|---|---|---|---|---|")
    for shape in args.shapes:
        for claims in args.claims:
            with tempfile.TemporaryDirectory() as tmp:
                file, config = workspace(Path(tmp), claims, args.pharmacies, shape)
                size = file.stat().st_size / 1e6
                base = measure("parse", file)
                cycle = measure("cycle", config)
                for name, result in (("iter_835 (baseline)", base), ("daemon cycle", cycle)):
                    print(f"| {shape} | {claims:,} | {size:.1f} | {name} | {result['cpu']:.2f} | "
                          f"{result['wall']:.2f} | {result['cpu'] / base['cpu']:.2f} | "
                          f"{result['rss_mib']:.1f} | {result['count']:,} |")


if __name__ == "__main__":
    main()
