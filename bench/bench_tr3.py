"""TR3 validation benchmark: the compiled validator against the reader's baseline and pyx12.

Run by hand (never in the test suite), from the repository root:

    .venv/bin/python bench/bench_tr3.py                      # multi-ST, ~100 MB
    .venv/bin/python bench/bench_tr3.py --shape single-st    # one huge ST

The file is the one bench/bench_x12.py uses (made by ``gateway synth 835`` into bench/data/).
Each kind runs in a fresh child process, timed on its own loop (CPU seconds of the child, so
that the neighbours' load on a shared machine counts less; wall time is shown too), in
interleaved rounds, ``--repeat`` of them: the table shows each kind's median (and the range),
ratios are of medians; peak RSS is the child's VmHWM, the highest of its runs:

* ``baseline``: the reader's baseline (bench_x12.py): read 1 MiB blocks, decode, split
  segments and elements, count — the least any reader does;
* ``tokenizer``: gateway.x12.syntax.tokenizer.iter_segments alone;
* ``tr3``: gateway.x12.tr3.validate_tr3 over the whole file (guides already compiled and
  cached on disk: that is the steady state of a daemon);
* ``validate``: what ``gateway validate --tr3`` runs: the streaming 835 reader's structural
  checks, then validate_tr3;
* ``pyx12``: pyx12 4.0.0's full validation (the reference wrapper gateway.x12.tr3
  .pyx12_reference) on a slice of the same file — its first transaction sets, closed with
  GE/IEA, ``--slice-mb`` MB (default 8) — because the whole file takes pyx12 ~400 s. Its
  throughput is compared with ``tr3``'s on the same slice (``tr3-slice``) and on the file.

Targets (issue 14): tr3 >= 20x pyx12's throughput, >= 0.25x the baseline, peak RSS <= 64 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_x12 import REPO, ensure_file, peak_rss_mb, run_baseline

KINDS = ("baseline", "tokenizer", "tr3", "validate", "tr3-slice", "pyx12")
RSS_LIMIT_MB = 64


def run_tokenizer(path: Path) -> int:
    from gateway.x12.syntax.tokenizer import iter_segments

    with open(path, "rb") as f:
        return sum(1 for _ in iter_segments(f, file_name=str(path)))


def run_tr3(path: Path) -> int:
    from gateway.x12.tr3 import validate_tr3

    return len(validate_tr3(path, file_name=str(path), structural=[]))


def run_validate(path: Path) -> int:
    from gateway.cli.validate import structural_findings
    from gateway.x12.tr3 import validate_tr3

    return len(validate_tr3(path, file_name=str(path), structural=structural_findings(path)))


def run_pyx12(path: Path) -> int:
    from gateway.x12.tr3.pyx12_reference import Tr3Validator

    return len(Tr3Validator().validate(path, structural=[]))


def slice_file(path: Path, megabytes: float) -> Path:
    """The file's first transaction sets (about ``megabytes`` MB), a complete interchange."""
    out = path.with_name(f"{path.stem}.slice{megabytes:g}MB.835")
    if out.exists():
        return out
    text = path.read_bytes().decode("latin-1")
    end = text.index("SE*", int(megabytes * 1e6))
    end = text.index("~", end) + 1
    while text[end] in "\r\n":
        end += 1
    sets = text.count("ST*835*", 0, end)
    head = text[:end]
    gs06 = head.split("GS*", 1)[1].split("~", 1)[0].split("*")[5]
    isa13 = head[90:99]
    out.write_bytes((head + f"GE*{sets}*{gs06}~\nIEA*1*{isa13}~\n").encode("latin-1"))
    return out


def child(kind: str, path: Path) -> None:
    work = {"baseline": run_baseline, "tokenizer": run_tokenizer, "tr3": run_tr3,
            "tr3-slice": run_tr3, "validate": run_validate, "pyx12": run_pyx12}[kind]
    cpu, wall = time.process_time(), time.perf_counter()
    count = work(path)
    print(json.dumps({"kind": kind, "cpu": time.process_time() - cpu,
                      "wall": time.perf_counter() - wall, "count": count,
                      "peak_rss_mb": peak_rss_mb()}))


def measure(kind: str, path: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", kind, str(path)],
                          capture_output=True, text=True, cwd=REPO)
    if done.returncode:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"kind": kind, "error": last}
    return json.loads(done.stdout.strip().splitlines()[-1])


def median_of(runs: list[dict]) -> dict:
    """One kind's runs as one result: median CPU and wall seconds, the CPU range, the
    highest peak RSS (a bound must hold for every run)."""
    failed = [r for r in runs if "error" in r]
    if failed:
        return failed[0]
    cpus = [r["cpu"] for r in runs]
    return {"kind": runs[0]["kind"], "count": runs[0]["count"], "runs": len(runs),
            "cpu": statistics.median(cpus), "cpu_range": (min(cpus), max(cpus)),
            "wall": statistics.median(r["wall"] for r in runs),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs)}


def report(path: Path, piece: Path, results: dict[str, dict]) -> None:
    size, piece_size = path.stat().st_size / 1e6, piece.stat().st_size / 1e6
    base = results["baseline"]["cpu"]
    print(f"\nfile: {path.name}, {size:.1f} MB; slice: {piece_size:.1f} MB\n")
    print("| kind | on | findings/count | runs | CPU s (median) | CPU s range | wall s | "
          "MB/s (CPU) | x baseline | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    speeds = {}
    for kind, result in results.items():
        if "error" in result:
            print(f"| {kind} | — | — | — | — | — | — | — | — | failed: {result['error']} |")
            continue
        on = piece_size if kind in ("pyx12", "tr3-slice") else size
        speeds[kind] = on / result["cpu"]
        ratio = speeds[kind] / (size / base)
        low, high = result["cpu_range"]
        print(f"| {kind} | {'slice' if on == piece_size else 'file'} | {result['count']} | "
              f"{result['runs']} | {result['cpu']:.2f} | {low:.2f}-{high:.2f} | "
              f"{result['wall']:.2f} | {speeds[kind]:.1f} | {ratio:.3f} | "
              f"{result['peak_rss_mb']:.1f} |")
    if {"tr3", "pyx12", "tr3-slice"} <= set(speeds):
        print(f"\ntr3 / pyx12 throughput: {speeds['tr3'] / speeds['pyx12']:.1f}x on the file, "
              f"{speeds['tr3-slice'] / speeds['pyx12']:.1f}x on the slice (target >= 20x)")
    if "tr3" in speeds:
        tr3 = results["tr3"]
        print(f"tr3 / baseline: {base / tr3['cpu']:.3f}x (medians; target >= 0.25x); peak RSS "
              f"{tr3['peak_rss_mb']:.1f} MB (target <= {RSS_LIMIT_MB} MB)")


def load() -> str:
    """The 1, 5 and 15 minute load averages (the machine is shared: say how busy it was)."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=("multi-st", "single-st"), default="multi-st")
    parser.add_argument("--payees", type=int, default=1000)
    parser.add_argument("--claims", type=int, default=400_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--slice-mb", type=float, default=8.0)
    parser.add_argument("--only", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    path = ensure_file(args)
    piece = slice_file(path, args.slice_mb)
    run_tr3(piece)  # compile the guides once into the on-disk cache, as a daemon's first file
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load {load()}",
          file=sys.stderr)
    runs: dict[str, list[dict]] = {}
    for round_number in range(1, args.repeat + 1):
        for kind in args.only:
            if kind == "pyx12" and round_number > 1:
                continue  # minutes per run: once is enough for its ratio
            print(f"round {round_number}: {kind} ...", file=sys.stderr)
            result = measure(kind, piece if kind in ("pyx12", "tr3-slice") else path)
            print(f"  {json.dumps(result)}", file=sys.stderr)
            runs.setdefault(kind, []).append(result)
    print(f"load after: {load()}", file=sys.stderr)
    report(path, piece, {kind: median_of(results) for kind, results in runs.items()})


if __name__ == "__main__":
    main()
