"""Claims reconciliation at scale: ledger ingest rows/s, reconcile time and peak RSS, on SQLite
and PostgreSQL, against a plain sort-merge baseline measured in the same run.

    .venv/bin/python bench/bench_reconcile.py --claims 1000000 --pharmacies 100
    .venv/bin/python bench/bench_reconcile.py --claims 100000 --pharmacies 100   # RSS check

The scenario (``gateway synth recon``, seed 1) is written once into bench/data/ and kept.
Each stage runs in a fresh child process, so its peak RSS (VmHWM) is its own:

* ``receive`` — the files into a fresh store (not timed as ingest: the daemon did it before);
* ``ingest`` — ``Ledger.record_file`` of every file: parse (NCPDP views, ``iter_835``),
  facts, batched writes (executemany / COPY); rows/s = ledger rows written / CPU-wall s;
* ``reconcile`` — every pharmacy's claims matched and judged (``reconcile``, PSAO-wide,
  totals only), each outcome written as a CSV row to a file;
* ``baseline`` — the least a reconciler does: read two CSVs of the same claims and payment
  lines (exported from the ledger beforehand, not timed), sort both in memory by key, merge,
  compare amounts, write one line per claim. It holds everything, so its RSS grows with N.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
PG_ADMIN = os.environ.get("GATEWAY_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def work_file(url: str, out: Path, name: str) -> Path:
    """A stage's output, per back end (two back ends may run at once on one scenario)."""
    backend = "sqlite" if url.startswith("sqlite") else "postgres"
    return out / f"{backend}-{name}"


def scenario_dir(claims: int, pharmacies: int) -> Path:
    return DATA / f"recon-{claims}-{pharmacies}-seed1"


# -- child stages -----------------------------------------------------------------------------


def stage_receive(url: str, out: Path) -> dict[str, object]:
    from gateway.store import open_store

    files = json.loads((out / "files.json").read_text())
    started = time.perf_counter()
    with open_store(url) as store:
        for path, partner in files:
            data = Path(path)
            digest = hashlib.sha256()
            with data.open("rb") as handle:
                while block := handle.read(1 << 20):
                    digest.update(block)
            store.record_received(partner=partner, remote_path=path, original_name=data.name,
                                  size=data.stat().st_size, mtime=None,
                                  sha256=digest.hexdigest(), payload_path=data)
    return {"seconds": time.perf_counter() - started}


def stage_ingest(url: str, out: Path) -> dict[str, object]:
    from gateway.config.members import load_roster
    from gateway.reconcile.config import load_reconcile_config
    from gateway.reconcile.ledgers import open_ledger
    from gateway.reconcile.pharmacies import roster_pharmacy_of
    from gateway.store import open_store

    config = load_reconcile_config(out)
    pharmacy_of = roster_pharmacy_of(load_roster(out / "members.csv"))
    rows = 0
    started, cpu = time.perf_counter(), time.process_time()
    with open_store(url, migrate=False) as store, open_ledger(store) as ledger:
        for received in reversed(store.list_files(limit=100_000)):
            with store.open_payload(received.sha256) as stream:
                rows += ledger.record_file(received, stream, config, pharmacy_of).rows
    return {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
            "rows": rows}


def stage_reconcile(url: str, out: Path) -> dict[str, object]:
    from gateway.reconcile.config import load_reconcile_config
    from gateway.reconcile.ledger import Scope
    from gateway.reconcile.ledgers import open_ledger
    from gateway.reconcile.report import reconcile
    from gateway.store import open_store
    from gateway.synth.recon import ReconSpec

    spec = json.loads((out / "spec.json").read_text())
    recon = ReconSpec(seed=1, pharmacies=spec["pharmacies"], claims=spec["claims"],
                      weeks=spec["weeks"])
    start, end = recon.period
    config = load_reconcile_config(out)
    started, cpu = time.perf_counter(), time.process_time()
    with open_store(url, migrate=False) as store, open_ledger(store) as ledger, \
            work_file(url, out, "outcomes.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        summary = reconcile(ledger, Scope(None, None, start, end, recon.as_of), config,
                            lambda o: writer.writerow((o.pharmacy, o.rx_number, o.fill_number,
                                                       o.date_of_service, o.outcome, o.paid)),
                            itemise=False)
    return {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
            "claims": summary.claims,
            "outcomes": {k: v.count for k, v in summary.by_outcome.items()}}


def stage_export(url: str, out: Path) -> dict[str, object]:
    """The baseline's input: the ledger's claims and payment lines as two CSVs."""
    from gateway.reconcile.facts import ClaimPaymentFact, ResponseFact
    from gateway.reconcile.ledger import Scope
    from gateway.reconcile.ledgers import open_ledger
    from gateway.store import open_store
    from gateway.synth.recon import ReconSpec

    spec = json.loads((out / "spec.json").read_text())
    recon = ReconSpec(seed=1, pharmacies=spec["pharmacies"], claims=spec["claims"],
                      weeks=spec["weeks"])
    scope = Scope(None, None, *recon.period, recon.as_of).params()
    counts = {}
    with open_store(url, migrate=False) as store, open_ledger(store) as ledger, \
            ledger.reading() as reads:
        with work_file(url, out, "claims.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            n = 0
            for r in reads.facts("stream_responses", ResponseFact, scope):
                writer.writerow((r.pharmacy, r.rx_number, r.date_of_service, r.transaction_code,
                                 r.status, r.total_paid or 0))
                n += 1
            counts["claims"] = n
        with work_file(url, out, "payments.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            n = 0
            for p in reads.facts("stream_claim_payments", ClaimPaymentFact, scope):
                writer.writerow((p.pharmacy, p.rx_number, p.date_of_service, p.status, p.paid))
                n += 1
            counts["payment_lines"] = n
    return counts


def stage_baseline(url: str, out: Path) -> dict[str, object]:
    started, cpu = time.perf_counter(), time.process_time()
    with work_file(url, out, "claims.csv").open(newline="") as handle:
        claims = sorted(tuple(row) for row in csv.reader(handle))
    with work_file(url, out, "payments.csv").open(newline="") as handle:
        payments = sorted(tuple(row) for row in csv.reader(handle))
    written = 0
    with work_file(url, out, "baseline.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        j = 0
        for claim in claims:
            key = claim[:3]
            while j < len(payments) and payments[j][:3] < key:
                j += 1
            paid = 0
            k = j
            while k < len(payments) and payments[k][:3] == key:
                paid += int(payments[k][4])
                k += 1
            writer.writerow((*key, "paid" if paid == int(claim[5]) else "other", paid))
            written += 1
    return {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
            "claims": written}


STAGES = {"receive": stage_receive, "ingest": stage_ingest, "reconcile": stage_reconcile,
          "export": stage_export, "baseline": stage_baseline}


def child_main(stage: str, url: str, out: str) -> None:
    result = STAGES[stage](url, Path(out))
    result["peak_rss_mib"] = round(peak_rss_mib(), 1)
    print(json.dumps(result))


def run_child(stage: str, url: str, out: Path) -> dict[str, object]:
    command = [sys.executable, __file__, "--child", stage, url, str(out)]
    done = subprocess.run(command, capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode != 0:
        raise SystemExit(f"{stage} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- driver -----------------------------------------------------------------------------------


def prepare(claims: int, pharmacies: int, weeks: int) -> Path:
    from gateway.synth.recon import ReconSpec
    from gateway.synth.recon_files import write_scenario

    out = scenario_dir(claims, pharmacies)
    if not (out / "files.json").is_file():
        started = time.perf_counter()
        files = write_scenario(ReconSpec(seed=1, pharmacies=pharmacies, claims=claims,
                                         weeks=weeks), out)
        (out / "files.json").write_text(json.dumps([[str(f.path), f.partner] for f in files]))
        (out / "spec.json").write_text(json.dumps(
            {"claims": claims, "pharmacies": pharmacies, "weeks": weeks}))
        print(f"generated {out} in {time.perf_counter() - started:.0f} s", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--pharmacies", type=int, default=100)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    out = prepare(args.claims, args.pharmacies, args.weeks)
    size = sum(Path(p).stat().st_size for p, _ in json.loads((out / "files.json").read_text()))
    print(f"scenario: {args.claims:,} claims, {args.pharmacies} pharmacies, "
          f"{size / 1e6:.0f} MB of NCPDP and 835 files; load {Path('/proc/loadavg').read_text()}")
    results: dict[str, dict[str, dict[str, object]]] = {}
    for backend in args.backends.split(","):
        url, drop = _fresh_store(backend, out)
        try:
            results[backend] = {stage: run_child(stage, url, out)
                                for stage in ("receive", "ingest", "reconcile", "export")}
            results[backend]["baseline"] = run_child("baseline", url, out)
        finally:
            drop()
        print(json.dumps({backend: results[backend]}, indent=1), flush=True)
    print(f"load after: {Path('/proc/loadavg').read_text()}")
    _table(results)


def _fresh_store(backend: str, out: Path) -> tuple[str, object]:
    if backend == "sqlite":
        db = out / "bench-store" / "gateway.db"
        if db.parent.exists():
            for item in sorted(db.parent.rglob("*"), reverse=True):
                item.unlink() if item.is_file() else item.rmdir()
        return f"sqlite:///{db}", lambda: None
    import psycopg

    name = f"gateway_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')

    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", drop


def _table(results: dict[str, dict[str, dict[str, object]]]) -> None:
    print("| back end | stage | wall s | CPU s | rows or claims | per s (wall) | x baseline | "
          "peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|")
    for backend, stages in results.items():
        base = float(stages["baseline"]["seconds"])  # type: ignore[arg-type]
        for stage in ("ingest", "reconcile", "baseline"):
            r = stages[stage]
            count = int(r.get("rows", r.get("claims", 0)))  # type: ignore[call-overload]
            wall = float(r["seconds"])  # type: ignore[arg-type]
            print(f"| {backend} | {stage} | {wall:.1f} | {float(r['cpu']):.1f} | "  # type: ignore[arg-type]
                  f"{count:,} | {count / wall:,.0f} | {base / wall:.2f} | {r['peak_rss_mib']} |")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(*sys.argv[2:5])
    else:
        main()
