"""Benchmark: peak memory of the CLI's commands on a ~100 MB single-ST central-pay 835.

Run by hand (not a test):

    .venv/bin/python bench/bench_cli_memory.py [--claims 330000] [--tr3] [--main ../main]
                                               [--progress] [--record]

The input is made by the project's own generator, exactly as an operator would
(``gateway synth 835 --shape single-st --payees 1000 --claims 330000 --seed 1``), into
bench/data/ (gitignored) when it is not there: one ST with the PSAO as payee and every claim
of the file in it — the case that held the whole file in memory.

Each command runs as its own child process (``python -m gateway ...``, stdout to /dev/null)
and its peak RSS is that child's own (``wait4`` rusage). The baseline, in the same run, is
the interpreter with the gateway imported reading the file in 1 MiB blocks: what no command
can go below. The issue's bound is 128 MiB for every command. ``--main TREE`` also measures
``parse --format json`` of another checkout (the code before the change) for the ratio;
``--tr3`` adds ``validate --tr3``. ``--progress`` runs every command a second time with its
stderr on a pseudo-terminal, so it draws its progress bar (gateway.cli.progress), read by a
thread of this process: the rows "(bar on)" against the piped run before them.
"""

from __future__ import annotations

import argparse
import os
import pty
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DATA = BENCH / "data"
BOUND_MIB = 128
BASELINE = ("import gateway.cli, sys\n"
            "with open(sys.argv[1], 'rb') as f:\n"
            "    while f.read(1 << 20):\n"
            "        pass\n")


def ensure_input(claims: int, payees: int) -> Path:
    path = DATA / f"single-st-{claims}-{payees}.835"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        subprocess.run([sys.executable, "-m", "gateway", "synth", "835", "--shape", "single-st",
                        "--payees", str(payees), "--claims", str(claims), "--seed", "1",
                        "-o", str(path)], check=True, cwd=REPO)
    return path


def measure(argv: list[str], tree: Path = REPO, terminal: bool = False) -> dict[str, float]:
    """Peak RSS (MiB), CPU and wall seconds of one child process; with ``terminal`` its
    stderr is a pseudo-terminal (the progress bar on), drained while it runs."""
    env = {**os.environ, "PYTHONPATH": str(tree), "TERM": "xterm", "COLUMNS": "100"}
    shown = bytearray()
    if terminal:
        controller, tty = pty.openpty()
        drain = threading.Thread(target=_drain, args=(controller, shown), daemon=True)
        drain.start()
    started = time.monotonic()
    child = subprocess.Popen([sys.executable, *argv], cwd=tree, stdout=subprocess.DEVNULL,
                             stderr=tty if terminal else subprocess.PIPE, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    if terminal:
        os.close(tty)
        drain.join(timeout=10)
        os.close(controller)
        error = shown.decode(errors="replace")
        if argv[-1] != BASELINE and "━" not in error and argv[:2] == ["-m", "gateway"]:
            raise SystemExit(f"{' '.join(argv)}: no progress bar on the terminal")
    else:
        assert child.stderr is not None
        error = child.stderr.read().decode(errors="replace").strip()
        child.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # 1: the command found the input invalid (still a measurement)
        raise SystemExit(f"{' '.join(argv)} exited {code}: {error[-500:]}")
    return {"rss": usage.ru_maxrss / 1024, "cpu": usage.ru_utime + usage.ru_stime,
            "wall": time.monotonic() - started, "exit": code}


def _drain(fd: int, into: bytearray) -> None:
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            return
        if not chunk:
            return
        into += chunk


def commands(path: Path, scratch: Path, tr3: bool) -> list[tuple[str, list[str]]]:
    gateway = ["-m", "gateway"]
    runs = [
        ("baseline (import + read)", ["-c", BASELINE, str(path)]),
        ("parse --format json", [*gateway, "parse", str(path), "--format", "json"]),
        ("parse --format jsonl", [*gateway, "parse", str(path), "--format", "jsonl"]),
        ("parse --format summary", [*gateway, "parse", str(path), "--format", "summary"]),
        ("validate", [*gateway, "validate", str(path)]),
        ("split --out (tmpfs)", [*gateway, "split", str(path), "--out", str(scratch)]),
    ]
    if tr3:
        runs.append(("validate --tr3", [*gateway, "validate", str(path), "--tr3"]))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--claims", type=int, default=330_000)
    parser.add_argument("--payees", type=int, default=1000)
    parser.add_argument("--tr3", action="store_true", help="also validate --tr3 (slow)")
    parser.add_argument("--main", type=Path, help="another checkout: its parse --format json")
    parser.add_argument("--progress", action="store_true",
                        help="also run each command with its progress bar on (stderr a pty)")
    parser.add_argument("--record", action="store_true", help="append to bench/README.md")
    args = parser.parse_args()
    path = ensure_input(args.claims, args.payees)
    size = path.stat().st_size / 1e6
    scratch = Path(tempfile.mkdtemp(prefix="bench-split-", dir="/dev/shm"))
    rows = []
    try:
        runs = commands(path, scratch / "out", args.tr3)
        if args.main:
            runs.insert(2, (f"parse --format json ({args.main.name}, before)",
                            ["-m", "gateway", "parse", str(path), "--format", "json"]))
        base = None
        for label, argv in runs:
            tree = args.main.resolve() if args.main and "before" in label else REPO
            bar = [False, True] if args.progress and argv[:2] == ["-m", "gateway"] else [False]
            for terminal in bar:
                shutil.rmtree(scratch / "out", ignore_errors=True)
                result = measure(argv, tree, terminal)
                base = base or result["rss"]
                name = f"{label} (bar on)" if terminal else label
                rows.append(f"| {name} | {result['rss']:.1f} | {result['rss'] / base:.2f} | "
                            f"{'yes' if result['rss'] <= BOUND_MIB else 'NO'} | "
                            f"{result['cpu']:.1f} | {result['wall']:.1f} | "
                            f"{result['exit']:.0f} |")
                print(rows[-1], flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if args.record:
        _record(rows, args, size)


def _record(rows: list[str], args: argparse.Namespace, size: float) -> None:
    command = "    .venv/bin/python bench/bench_cli_memory.py " + " ".join(
        a for a in sys.argv[1:] if a != "--record")
    with open("/proc/loadavg") as load:
        loadavg = " ".join(load.read().split()[:3])
    text = "\n".join([
        "", f"{time.strftime('%Y-%m-%d')}, {size:.1f} MB single-ST file "
        f"({args.claims:,} claims, {args.payees:,} pharmacies), load average {loadavg}:", "",
        f"{command.rstrip()}", "",
        "| command | peak RSS MiB | x baseline | <= 128 MiB | CPU s | wall s | exit |",
        "|---|---|---|---|---|---|---|", *rows, ""])
    with (BENCH / "README.md").open("a") as readme:
        readme.write(text)


if __name__ == "__main__":
    main()
