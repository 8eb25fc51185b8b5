"""The claims ledger takes an 835's facts from the parse stage's one read (issue 13, item 3):
the rows are the same as the ledger reading the file itself, nothing is visible before the
file is routed, a file quarantined after its parse leaves no rows, and a daemon that restarts
between parse and route (nothing listened to) reads the file as before. SQLite and PostgreSQL.
"""

from __future__ import annotations

from recon_support import load_scenario

import gateway.reconcile.ledger as ledger_module
from gateway.daemon.parse import parse_file
from gateway.reconcile.ledgers import open_ledger
from gateway.reconcile.pharmacies import roster_pharmacy_of
from gateway.reconcile.recorder import LedgerRecorder
from gateway.synth.recon import ReconSpec

TABLES = ("requests", "responses", "claim_payments", "provider_adjustments")


def _rows(ledger, loaded) -> dict[str, list[tuple]]:
    with ledger.reading() as reads:
        return {name: sorted(map(tuple, reads.rows(f"stream_{name}", loaded.scope().params())))
                for name in TABLES}


def _setup(store, tmp_path):
    spec = ReconSpec(seed=11, pharmacies=2, claims=80, weeks=2)
    with open_ledger(store) as ledger:
        loaded = load_scenario(store, ledger, spec, tmp_path / "s")  # read by the ledger
        expected = _rows(ledger, loaded)
    firsts = [f for f in store.list_files(limit=100) if f.duplicate_of is None]
    x12 = [f for f in firsts if f.original_name.endswith(".835")]
    assert x12 and expected["claim_payments"]
    recorder = LedgerRecorder(store, loaded.config, roster_pharmacy_of(loaded.roster))
    return loaded, expected, x12, recorder


def _forget(store, files) -> None:
    """The ledger as if these files had never been taken in (started, no rows)."""
    with open_ledger(store) as ledger:
        for received in files:
            ledger._begin(received.id, "835")


def _claim_rows(store, file_id: int) -> int:
    """Rows of the file in the ledger, complete or not (straight from the database)."""
    sql = "SELECT count(*) FROM ledger_claim_payments WHERE file_id = "
    if store.backend == "postgres":
        import psycopg

        with psycopg.connect(store.url) as db:
            row = db.execute(sql + "%s", (file_id,)).fetchone()
    else:
        import sqlite3

        with sqlite3.connect(store.path) as db:
            row = db.execute(sql + "?", (file_id,)).fetchone()
    return int(row[0])


def _parse(store, received, sinks) -> None:
    with store.open_payload(received.sha256) as stream:
        parsed = parse_file(stream, received, sinks)
    assert parsed.refusal() is None


def test_facts_taken_while_parsing_equal_the_ledger_reading_the_file(store, tmp_path,
                                                                     monkeypatch):
    loaded, expected, x12, recorder = _setup(store, tmp_path)
    monkeypatch.setattr(ledger_module, "BATCH", 1)  # batches written during the parse
    _forget(store, x12)
    with open_ledger(store) as ledger:
        for received in x12:
            _parse(store, received, [recorder.listen(received)])
            assert _claim_rows(store, received.id) > 0  # written while parsing, but...
            assert _rows(ledger, loaded) != expected  # ...ingesting: no report sees it yet
            recorder(received)  # routed: the ingest completes, the file is not read again
        assert _rows(ledger, loaded) == expected


def test_a_file_quarantined_after_its_parse_leaves_no_rows(store, tmp_path, monkeypatch):
    loaded, expected, x12, recorder = _setup(store, tmp_path)
    monkeypatch.setattr(ledger_module, "BATCH", 1)
    _forget(store, x12)
    victim = x12[0]
    _parse(store, victim, [recorder.listen(victim)])
    assert _claim_rows(store, victim.id) > 0
    recorder.discard()  # the pipeline quarantines the file
    assert _claim_rows(store, victim.id) == 0
    with open_ledger(store) as ledger:
        assert ledger._state(victim.id) == "ingesting"  # never complete: never reported
        for received in x12:  # retried and routed later: read in full, nothing doubled
            recorder(received)
        assert _rows(ledger, loaded) == expected


def test_a_restart_between_parse_and_route_reads_the_file_itself(store, tmp_path):
    loaded, expected, x12, recorder = _setup(store, tmp_path)
    _forget(store, x12)
    _parse(store, x12[0], [recorder.listen(x12[0])])  # then the daemon is killed
    restarted = LedgerRecorder(store, loaded.config, roster_pharmacy_of(loaded.roster))
    for received in x12:
        restarted(received)
    with open_ledger(store) as ledger:
        assert _rows(ledger, loaded) == expected
