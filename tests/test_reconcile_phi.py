"""No PHI anywhere the claims ledger reaches: every report (CSV, JSON, HTML, audit pack),
every log line and every ledger row is searched for the generator's patient names,
cardholder ids and birth dates — on SQLite and on PostgreSQL."""

from __future__ import annotations

import io
import sqlite3

import psycopg
import structlog
from recon_support import load_scenario, receive

from gateway.log import configure
from gateway.reconcile.audit import write_audit_pack
from gateway.reconcile.documents import FORMATS, build_report
from gateway.reconcile.ledger import TABLES
from gateway.reconcile.ledgers import open_ledger
from gateway.reconcile.pharmacies import roster_pharmacy_of
from gateway.reconcile.recorder import LedgerRecorder
from gateway.store.postgres import PostgresStore
from gateway.store.sqlite import SQLiteStore
from gateway.synth.recon import PBMS, ReconSpec, Scenario
from gateway.synth.recon_files import write_scenario

LEDGER_TABLES = ["ledger_files", *(f"ledger_{name}" for name in TABLES.values())]


def _phi(spec: ReconSpec) -> set[str]:
    values: set[str] = set()
    for claim in Scenario(spec).claims():
        p = claim.patient
        values |= {p.last_name, p.first_name, p.cardholder_id, p.birth_date.isoformat(),
                   p.birth_date.strftime("%Y%m%d")}
    return values


def _ledger_rows(store) -> list[str]:
    rows = []
    if isinstance(store, SQLiteStore):
        with sqlite3.connect(store.path) as db:
            for table in LEDGER_TABLES:
                rows += [repr(row) for row in db.execute(f"SELECT * FROM {table}")]
    else:
        assert isinstance(store, PostgresStore)
        with psycopg.connect(store.url) as db:
            for table in LEDGER_TABLES:
                rows += [repr(row) for row in db.execute(f"SELECT * FROM {table}")]
    return rows


def test_no_phi_in_reports_logs_or_ledger_rows(store, tmp_path):
    spec = ReconSpec(seed=9, pharmacies=2, claims=160, weeks=4)
    files = write_scenario(spec, tmp_path / "scenario")
    raw = b"".join(f.path.read_bytes() for f in files)
    phi = _phi(spec)
    # The inputs do carry it (names and ids in both formats; birth dates in the claims).
    assert all(value.encode() in raw for value in phi if not value[:1].isdigit())
    assert any(value.encode() in raw for value in phi if value[:1].isdigit() and "-" not in value)
    log = io.StringIO()
    configure(json=True, file=log)
    outputs: list[str] = []
    try:
        with open_ledger(store) as ledger:
            loaded = load_scenario(store, ledger, spec, tmp_path / "scenario", files=[])
            recorder = LedgerRecorder(store, loaded.config, roster_pharmacy_of(loaded.roster))
            for written in files:  # through the pipeline's hook, as the daemon does
                recorder(receive(store, written.path, written.partner))
            for member in loaded.roster:
                report = build_report(ledger, loaded.scope(member.pharmacy_id), loaded.config)
                outputs += [report.render(fmt).decode() for fmt in FORMATS]
                report.close()
                wanted = [(row["rx_number"], None) for row in loaded.truth_rows()
                          if row["pharmacy"] == member.pharmacy_id][:40]
                for path in write_audit_pack(ledger, member.pharmacy_id, PBMS[0].id, wanted,
                                             tmp_path / f"audit-{member.pharmacy_id}",
                                             as_of=spec.as_of, title="audit"):
                    outputs.append(path.read_text())
    finally:
        structlog.reset_defaults()
    rows = _ledger_rows(store)
    assert len(rows) > 500 and log.getvalue().count("\n") >= len(files)
    haystacks = {"reports": "\n".join(outputs), "log": log.getvalue(), "ledger": "\n".join(rows)}
    for where, text in haystacks.items():
        upper = text.upper()
        found = sorted(value for value in phi if value.upper() in upper)
        assert found == [], f"PHI in the {where}: {found[:5]}"
