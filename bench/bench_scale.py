"""Scale-out throughput (issue 13): one daemon against two on one PostgreSQL store, and the
end-to-end cycle of one large single-ST central pay against one streaming parse of it.

Workload A (``--daemons 1 2``): ``--files`` central pays (multi-ST and single-ST in turn), each
to the same ``--pharmacies`` members (folder destinations), dropped in a PBM folder; the
daemons (``gateway run``, each its own gateway.toml and data directory, as on two hosts) run
until every file is routed and every delivery delivered. Reported: deliveries per second over
the whole run (first file received to last delivery acked) and the mean end-to-end seconds per
file (received to its last delivery acked), read from the store's own clock.

Workload B (``--big-claims``): one single-ST central pay of ~100 MB to the same pharmacies, one
``run --once`` on a fresh PostgreSQL store, against ``iter_835`` over the same file (the least
the daemon must do), each in its own child process, in the same run: ``--repeat`` pairs, in
alternating order, each on a fresh store; reported: every pair and the ratio of the minima.

    .venv/bin/python bench/bench_scale.py --pharmacies 1000 --files 4 --claims 20000 \\
        --daemons 1 2 --big-claims 330000
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
ADMIN = os.environ.get("GATEWAY_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def database() -> str:
    name = f"gateway_bench_{secrets.token_hex(5)}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN.rsplit("/", 1)[0] + f"/{name}"
    subprocess.run([sys.executable, "-m", "gateway", "migrate", "--store", url], check=True,
                   capture_output=True, cwd=REPO)
    return url


def drop(url: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def site(root: Path, url: str, *, pharmacies: int, files: list[tuple[str, int]],
         daemons: int) -> list[Path]:
    """The PBM folder with ``files`` (shape, claims), members, one gateway.toml per daemon."""
    from gateway.ops.demo import SampleFile, Samples, folder_inbound, member_id, write_workspace
    from gateway.synth.x12_835 import Spec, write_835_file

    outbound = root / "pbm" / "outbound"
    outbound.mkdir(parents=True)
    (root / "pbm" / "inbound").mkdir()
    made, members, psao = [], {}, "1999999992"
    for n, (shape, claims) in enumerate(files):
        summary = write_835_file(str(outbound / f"era-{n:02d}.835"), Spec(
            shape=shape, payees=pharmacies, claims=claims, seed=5 + n % 2,
            interchange_control_number=900 + n))
        made.append(SampleFile(f"era-{n:02d}.835", shape, summary))
        members.update({p.npi: p for p in summary.pharmacies})
        psao = summary.sets[0].payee_npi if shape == "single-st" else psao
    samples = Samples(tuple(made), tuple(members.values()), psao)
    config = write_workspace(
        root, samples, inbound=folder_inbound(root / "pbm", settle_seconds=0.1),
        outbound=f'type = "folder"\npath = "{root / "pbm" / "inbound"}"\n',
        destinations={p.npi: f"folder:{root / 'ph' / member_id(p)}" for p in members.values()},
        workers=4)
    text, configs = config.read_text(), []
    for n in range(daemons):
        host = root / f"host-{n}"
        host.mkdir()
        configs.append(host / "gateway.toml")
        configs[-1].write_text(text.replace(
            'store = "sqlite:///data/gateway.db"',
            f'store = "{url}"\ndata_dir = "{host / "data"}"\npartners_dir = "{root / "partners"}"'))
    return configs


def finished(url: str, files: int) -> bool:
    with psycopg.connect(url) as db:
        routed = db.execute("SELECT count(*) FROM files WHERE status = 'routed'").fetchone()
        waiting = db.execute("SELECT count(*) FROM deliveries WHERE state IN "
                             "('pending', 'leased', 'failed')").fetchone()
    return bool(routed and waiting and routed[0] == files and waiting[0] == 0)


def figures(url: str) -> dict[str, float]:
    """Deliveries/s over the run and mean seconds from a file's receipt to its last ack."""
    with psycopg.connect(url) as db:
        row = db.execute("""
            WITH acked AS (
                SELECT d.id, doc.file_id, max(e.at) AS at
                  FROM deliveries d JOIN documents doc ON doc.id = d.document_id
                  JOIN events e ON e.entity_type = 'delivery' AND e.entity_id = d.id::text
                                AND e.action = 'delivered'
                 GROUP BY d.id, doc.file_id),
            per_file AS (
                SELECT f.id, f.received_at, max(a.at) AS done, count(*) AS n
                  FROM files f JOIN acked a ON a.file_id = f.id GROUP BY f.id, f.received_at)
            SELECT sum(n) AS deliveries,
                   extract(epoch FROM max(done) - min(received_at)) AS seconds,
                   avg(extract(epoch FROM done - received_at)) AS per_file
              FROM per_file""").fetchone()
    assert row is not None
    deliveries, seconds, per_file = int(row[0]), float(row[1]), float(row[2])
    return {"deliveries": deliveries, "seconds": seconds, "per_s": deliveries / seconds,
            "per_file": per_file}


@contextmanager
def big_file_cycle(claims: int, pharmacies: int = 1000) -> Iterator[tuple[Callable[[], None], str]]:
    """Workload B in this process, for the profilers: a fresh PostgreSQL store with one
    single-ST central pay of ``claims`` claims waiting; yields the ``run --once`` to time and
    the store's URL (for :func:`figures`), and drops the database afterwards."""
    from gateway.config.settings import load_settings
    from gateway.daemon.loop import Daemon
    from gateway.log import configure

    url = database()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            [config] = site(Path(tmp), url, pharmacies=pharmacies,
                            files=[("single-st", claims)], daemons=1)
            settings = load_settings(config)
            with (config.parent / "daemon.log").open("w") as log:
                configure(json=True, file=log, level=logging.WARNING)

                def run_once() -> None:
                    assert Daemon(settings).run(once=True) == 0

                yield run_once, url
    finally:
        drop(url)


def workload_a(args: argparse.Namespace, daemons: int) -> dict[str, float]:
    url = database()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            files = [("multi-st" if n % 2 == 0 else "single-st", args.claims)
                     for n in range(args.files)]
            configs = site(Path(tmp), url, pharmacies=args.pharmacies, files=files,
                           daemons=daemons)
            env = {**os.environ, "PYTHONPATH": str(REPO)}
            procs = [subprocess.Popen([sys.executable, "-m", "gateway", "run", "--config",
                                       str(c)], stdout=subprocess.DEVNULL,
                                      stderr=(c.parent / "log").open("w"), env=env)
                     for c in configs]
            try:
                while not finished(url, len(files)):
                    assert all(p.poll() is None for p in procs), "a daemon exited"
                    time.sleep(0.5)
            finally:
                for p in procs:
                    p.send_signal(signal.SIGTERM)
                for p in procs:
                    p.wait(timeout=60)
        return figures(url)
    finally:
        drop(url)


def child(kind: str, path: Path) -> None:
    started, cpu = time.perf_counter(), time.process_time()
    if kind == "parse":
        from gateway.model import ClaimPayment
        from gateway.x12.read.reader import iter_835

        with path.open("rb") as stream:
            count = sum(isinstance(item, ClaimPayment) for item in iter_835(stream))
    elif kind == "none":  # the start-up that precedes the timers, for --instructions
        count = 0
    else:
        from gateway.config.settings import load_settings
        from gateway.daemon.loop import Daemon
        from gateway.log import configure

        settings = load_settings(path)
        with (path.parent / "daemon.log").open("w") as log:
            configure(json=True, file=log, level=logging.WARNING)
            assert Daemon(settings).run(once=True) == 0
        count = 0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux -> MiB
    print(json.dumps({"cpu": time.process_time() - cpu, "wall": time.perf_counter() - started,
                      "count": count, "rss": rss}))


def measure(kind: str, path: Path, *, instructions: bool = False) -> dict[str, float]:
    """One child run; with ``instructions``, under callgrind, which counts the instructions
    the process executed (all its threads, not the PostgreSQL server's): the same count for
    the same code and input however busy the machine is, at some fifty times the time."""
    command = [sys.executable, __file__, "--child", kind, str(path)]
    with tempfile.TemporaryDirectory() as tmp:
        counts = Path(tmp) / "callgrind.out"
        if instructions:
            command = ["valgrind", "--tool=callgrind", "--cache-sim=no", "--branch-sim=no",
                       f"--callgrind-out-file={counts}", *command]
        out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=REPO)
        result: dict[str, float] = json.loads(out.stdout.splitlines()[-1])
        if instructions:
            [total] = [line for line in counts.read_text().splitlines()
                       if line.startswith("summary:")]
            result["instructions"] = float(total.split()[1])
    return result


def counted(kind: str, path: Path, start_up: float) -> dict[str, float]:
    """:func:`measure` under callgrind, less the instructions of the start-up before the
    child's timers (the interpreter and this script's imports), so both measures cover the
    same work."""
    result = measure(kind, path, instructions=True)
    result["instructions"] -= start_up
    return result


def big_pair(args: argparse.Namespace, *, cycle_first: bool) -> dict[str, float]:
    """One parse and one cycle of workload B on a fresh store and site (in the given order)."""
    url = database()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            [config] = site(Path(tmp), url, pharmacies=args.pharmacies,
                            files=[("single-st", args.big_claims)], daemons=1)
            big = Path(tmp) / "pbm" / "outbound" / "era-00.835"
            size = big.stat().st_size / 1e6
            copy = Path(tmp) / "parse.835"  # the cycle archives the original
            shutil.copyfile(big, copy)
            if args.instructions:
                start_up = measure("none", copy, instructions=True)["instructions"]
                parse, cycle = counted("parse", copy, start_up), counted("cycle", config, start_up)
            elif cycle_first:
                cycle, parse = measure("cycle", config), measure("parse", copy)
            else:
                parse, cycle = measure("parse", copy), measure("cycle", config)
            deliveries = figures(url)["deliveries"]
    finally:
        drop(url)
    return {"size": size, "deliveries": deliveries,
            **{f"parse_{k}": v for k, v in parse.items()},
            **{f"cycle_{k}": v for k, v in cycle.items()}}


def workload_b(args: argparse.Namespace) -> None:
    """``--repeat`` pairs, the order alternating; the ratio of the minima is the figure (a
    shared machine only ever adds time), every pair is printed beside it."""
    print("\n| pair | order | parse wall / CPU s | cycle wall / CPU s | x parse (wall) "
          "| x parse (CPU) | cycle peak RSS MiB | deliveries |\n|---|---|---|---|---|---|---|---|",
          flush=True)
    pairs = []
    for n in range(args.repeat):
        cycle_first = n % 2 == 1 and not args.instructions  # counts do not depend on order
        got = big_pair(args, cycle_first=cycle_first)
        pairs.append(got)
        print(f"| {n + 1} | {'cycle, parse' if cycle_first else 'parse, cycle'} | "
              f"{got['parse_wall']:.1f} / {got['parse_cpu']:.1f} | "
              f"{got['cycle_wall']:.1f} / {got['cycle_cpu']:.1f} | "
              f"{got['cycle_wall'] / got['parse_wall']:.2f} | "
              f"{got['cycle_cpu'] / got['parse_cpu']:.2f} | {got['cycle_rss']:.0f} | "
              f"{got['deliveries']:,} |", flush=True)
        if args.instructions:
            print(f"|   | instructions | {got['parse_instructions'] / 1e9:.1f} G | "
                  f"{got['cycle_instructions'] / 1e9:.1f} G | "
                  f"{got['cycle_instructions'] / got['parse_instructions']:.2f} (instructions)"
                  " | | | |", flush=True)
    low = {key: min(p[key] for p in pairs) for key in pairs[0]}
    wall = sorted(p["cycle_wall"] / p["parse_wall"] for p in pairs)
    cpu = sorted(p["cycle_cpu"] / p["parse_cpu"] for p in pairs)
    print(f"\n{pairs[0]['size']:.1f} MB single-ST, {args.repeat} pairs: minimum parse "
          f"{low['parse_wall']:.1f} s wall / {low['parse_cpu']:.1f} s CPU, minimum cycle "
          f"{low['cycle_wall']:.1f} s wall / {low['cycle_cpu']:.1f} s CPU; ratio of the minima "
          f"{low['cycle_wall'] / low['parse_wall']:.2f}x wall, "
          f"{low['cycle_cpu'] / low['parse_cpu']:.2f}x CPU; median pair "
          f"{wall[len(wall) // 2]:.2f}x wall, {cpu[len(cpu) // 2]:.2f}x CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pharmacies", type=int, default=1000)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--claims", type=int, default=20_000)
    parser.add_argument("--daemons", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--big-claims", type=int, default=0, help="0: skip workload B")
    parser.add_argument("--repeat", type=int, default=5, help="workload B pairs")
    parser.add_argument("--instructions", action="store_true",
                        help="workload B under valgrind's callgrind: instruction counts too")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    if args.daemons:
        print("| daemons | deliveries | seconds (first receipt to last ack) | deliveries/s | "
              "mean s per file (receipt to last ack) |\n|---|---|---|---|---|")
        for daemons in args.daemons:
            got = workload_a(args, daemons)
            print(f"| {daemons} | {got['deliveries']:,} | {got['seconds']:.1f} | "
                  f"{got['per_s']:.1f} | {got['per_file']:.1f} |", flush=True)
    if args.big_claims:
        workload_b(args)


if __name__ == "__main__":
    main()
