"""X12 835 benchmark: throughput and peak memory of each way of reading a central-pay file.

Run by hand (never in the test suite), from the repository root:

    .venv/bin/python bench/bench_x12.py                      # multi-ST, ~100 MB
    .venv/bin/python bench/bench_x12.py --shape single-st    # one huge ST (the splitter's case)

The file is made by our generator (``gateway synth 835``) into bench/data/ (gitignored) unless
it is already there. Each reader runs in a fresh child process, so that its peak RSS (VmHWM)
is its own; the child times only its reading loop. The machine is shared, so the readers run
in interleaved rounds (``--repeat``, default 3; pyx12 once) and each one's best time counts;
the figures that matter are the ratios against the baseline measured in the same run:

* ``baseline``: the minimal work any reader must do — read 1 MiB blocks, decode latin-1,
  split segments on the terminator and each segment on the element separator, count;
* ``pyx12``: pyx12's X12Reader over the file (segment objects, no map);
* ``tokenizer``: gateway.x12.syntax.tokenizer.iter_segments (target >= 0.6x baseline throughput);
* ``iter_835``: gateway.x12.read.reader.iter_835, the streaming reader: every claim fully built
  into the canonical model (ClaimPayment with its ServiceLines, Adjustments, References,
  Person, SourceRef; none skipped, none left undecoded), checks included, nothing kept
  (target >= 0.35x baseline);
* ``read_835``: gateway.x12.read.reader.read_835, the same items collected into one Remittance per
  transaction set (holds a whole set: on a single-ST file, every claim of the file).
  Targets for the project's readers: peak RSS <= 64 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KINDS = ("baseline", "pyx12", "tokenizer", "iter_835", "read_835")
TARGETS = {"tokenizer": 0.6, "iter_835": 0.35, "read_835": 0.35}
RSS_LIMIT_MB = 64


def peak_rss_mb() -> float:
    """VmHWM of this process (peak resident set), in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def run_baseline(path: Path) -> int:
    with open(path, "rb") as f:
        head = f.read(106).decode("latin-1")
        element, terminator = head[3], head[105]
        f.seek(0)
        segments, rest = 0, ""
        while block := f.read(1 << 20):
            parts = (rest + block.decode("latin-1")).split(terminator)
            rest = parts.pop()
            for part in parts:
                part.split(element)
            segments += len(parts)
    return segments


def run_pyx12(path: Path) -> int:
    import pyx12.x12file

    segments = 0
    with open(path, encoding="latin-1", newline="") as f:
        for _ in pyx12.x12file.X12Reader(f):
            segments += 1
    return segments


def run_tokenizer(path: Path) -> int:
    from gateway.x12.syntax.tokenizer import iter_segments

    segments = 0
    with open(path, "rb") as f:
        for _ in iter_segments(f, file_name=str(path)):
            segments += 1
    return segments


def run_iter_835(path: Path) -> int:
    from gateway.model import ClaimPayment
    from gateway.x12.read.reader import iter_835

    claims = 0
    with open(path, "rb") as f:
        for item in iter_835(f, file_name=str(path)):
            if type(item) is ClaimPayment:
                claims += 1
    return claims


def run_read_835(path: Path) -> int:
    from gateway.x12.read.reader import read_835

    claims = 0
    with open(path, "rb") as f:
        for remittance in read_835(f, file_name=str(path)):
            claims += len(remittance.claims)
    return claims


def child(kind: str, path: Path) -> None:
    """Run one reader and print its result as JSON (the parent collects it)."""
    work = globals()[f"run_{kind}"]
    start = time.perf_counter()
    count = work(path)
    seconds = time.perf_counter() - start
    print(json.dumps({"kind": kind, "seconds": seconds, "count": count,
                      "peak_rss_mb": peak_rss_mb()}))


def measure(kind: str, path: Path) -> dict:
    wall = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--child", kind, str(path)],
                          capture_output=True, text=True, cwd=REPO)
    wall = time.perf_counter() - wall
    if done.returncode:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"kind": kind, "error": last}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    return result


def ensure_file(args: argparse.Namespace) -> Path:
    data = REPO / "bench" / "data"
    data.mkdir(parents=True, exist_ok=True)
    path = data / f"central_pay_{args.shape}_{args.payees}x{args.claims}_seed{args.seed}.835"
    if not path.exists():
        print(f"generating {path.name} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "gateway", "synth", "835", "--shape", args.shape,
                        "--payees", str(args.payees), "--claims", str(args.claims),
                        "--seed", str(args.seed), "-o", str(path)], check=True, cwd=REPO)
    return path


def report(path: Path, results: list[dict]) -> None:
    size_mb = path.stat().st_size / 1e6
    base = next((r for r in results if r["kind"] == "baseline" and "error" not in r), None)
    print(f"\nfile: {path.name}, {size_mb:.1f} MB\n")
    print("| reader | count | time s | MB/s | x baseline | target | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        if "error" in r:
            print(f"| {r['kind']} | — | — | — | — | — | failed: {r['error']} |")
            continue
        ratio = base["seconds"] / r["seconds"] if base else float("nan")
        target = TARGETS.get(r["kind"])
        verdict = ""
        if target is not None:
            ok = ratio >= target and r["peak_rss_mb"] <= RSS_LIMIT_MB
            verdict = f">= {target}x, <= {RSS_LIMIT_MB} MB: {'met' if ok else 'MISSED'}"
        print(f"| {r['kind']} | {r['count']} | {r['seconds']:.2f} | {size_mb / r['seconds']:.1f} "
              f"| {ratio:.2f} | {verdict} | {r['peak_rss_mb']:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=("multi-st", "single-st"), default="multi-st")
    parser.add_argument("--payees", type=int, default=1000)
    parser.add_argument("--claims", type=int, default=400_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds, interleaving the readers; the best time of each counts")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    path = ensure_file(args)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores", file=sys.stderr)
    best: dict[str, dict] = {}
    for round_number in range(1, args.repeat + 1):
        for kind in args.only:
            if kind == "pyx12" and round_number > 1:
                continue  # 20x slower than the rest: once is enough to know its ratio
            print(f"round {round_number}: {kind} ...", file=sys.stderr)
            result = measure(kind, path)
            if kind not in best or result.get("seconds", 1e9) < best[kind].get("seconds", 1e9):
                best[kind] = result
    report(path, [best[kind] for kind in args.only])


if __name__ == "__main__":
    main()
