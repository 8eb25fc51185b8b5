"""Benchmark: stream-parse a generated NCPDP batch of 100,000 B1 claims; bounded memory.

Run by hand (never a timed test):

    .venv/bin/python bench/bench_ncpdp.py [--claims 100000] [--seed 1] [--rounds 3]

Generates a request batch with the synthetic generator (one B1 claim per transmission), then
measures, each in a fresh child process so peak RSS (VmHWM) is its own:

* ``split-baseline`` — read the whole file and split on ETX, GS, RS and FS: the least work
  any parser must do, measured in the same run as the reference for the ratio;
* ``parse`` — ``gateway.ncpdp.parse_file``: streaming records, batch envelope checks (record
  count, batch numbers), request/response told apart, one document per transmission holding
  its exact text (segments, checks and business fields are lazy views);
* ``parse+checks`` — the same plus every document's findings: segments and fields split,
  header, counts and every known field's format checked;
* ``parse+views`` — parse plus the claim and pricing business fields of every claim (Decimal
  amounts, typed quantities), i.e. what a router or reconciliation reads;
* ``parse (1/10 file)`` — the parser on a tenth of the claims: peak RSS should not change,
  which is what "memory bounded by one record" means in practice.

Times are CPU seconds of the child (``time.process_time``), best of ``--rounds`` interleaved
rounds: on a shared machine wall time mostly measures the neighbours.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()


def peak_rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return -1


def child(mode: str, path: str) -> None:
    from gateway.ncpdp import parse_file  # imported before the clock starts

    start, cpu_start = time.perf_counter(), time.process_time()
    count = 0
    if mode == "split-baseline":
        data = Path(path).read_bytes()
        for record in data.split(b"\x03"):
            for group in record.split(b"\x1d"):
                for segment in group.split(b"\x1e"):
                    count += len(segment.split(b"\x1c"))
    else:
        for document in parse_file(path):
            count += 1
            if mode == "parse+checks":
                count += len(document.findings)
            elif mode == "parse+views":
                for transaction in document.transactions:
                    assert transaction.claim.rx_number and transaction.pricing.gross_amount_due
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(json.dumps({"wall": wall, "cpu": cpu, "peak_rss_kib": peak_rss_kib(), "count": count}))


def run_child(mode: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, str(HERE), "--child", mode, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def generate(path: Path, claims: int, seed: int) -> None:
    sys.path.insert(0, str(HERE.parent.parent))
    from gateway.synth.ncpdp import SynthOptions, write_batches

    options = SynthOptions(seed=seed, transmissions=claims, reversal_rate=0.0)
    with path.open("wb") as requests, open(os.devnull, "wb") as responses:
        write_batches(options, requests, responses)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp) / "big.ncpdp", Path(tmp) / "small.ncpdp"
        started = time.perf_counter()
        generate(big, args.claims, args.seed)
        generate(small, args.claims // 10, args.seed)
        generated = time.perf_counter() - started
        size = big.stat().st_size
        runs = [
            ("split-baseline", big),
            ("parse", big),
            ("parse+checks", big),
            ("parse+views", big),
            ("parse (1/10 file)", small),
        ]
        results: dict[str, dict] = {}
        for _ in range(args.rounds):  # interleaved rounds, best of each: load noise cancels
            for name, path in runs:
                r = run_child(name.split(" ")[0], path)
                best = results.get(name)
                if best is None or r["cpu"] < best["cpu"]:
                    results[name] = r
    base = args.claims / results["split-baseline"]["cpu"]  # claims per CPU second
    print(
        f"{args.claims} B1 claims, {size / 1e6:.1f} MB, generated in {generated:.1f} s; "
        f"best of {args.rounds} interleaved rounds"
    )
    print("| run | CPU s | wall s | MB/s (CPU) | claims/s (CPU) | x baseline | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        share = 0.1 if "1/10" in name else 1.0
        claims, megabytes = args.claims * share, size * share / 1e6
        print(
            f"| {name} | {r['cpu']:.2f} | {r['wall']:.2f} | {megabytes / r['cpu']:.1f} | "
            f"{claims / r['cpu']:,.0f} | {claims / r['cpu'] / base:.2f} | "
            f"{r['peak_rss_kib'] / 1024:.1f} |"
        )


if __name__ == "__main__":
    main()
