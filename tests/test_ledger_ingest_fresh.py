"""Each ingest of a file starts fresh: a file taken into the ledger a second time in the same
process (its first ingest discarded — the file was quarantined, then retried) gets exactly its
own rows and the right row count, never the first ingest's count or pending rows carried over.
SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
from recon_support import receive

import gateway.reconcile.ledger as ledger_module
from gateway.reconcile import facts as f
from gateway.reconcile.config import load_reconcile_config
from gateway.reconcile.ledger import TABLES
from gateway.reconcile.ledgers import open_ledger
from gateway.synth.recon import ReconSpec
from gateway.synth.recon_files import write_scenario


def _rows_in_database(store, file_id: int) -> int:
    """Every row of the file in the ledger's fact tables, complete or not."""
    total = 0
    for table in TABLES.values():
        sql = f"SELECT count(*) FROM ledger_{table} WHERE file_id = "
        if store.backend == "postgres":
            import psycopg

            with psycopg.connect(store.url) as db:
                row = db.execute(sql + "%s", (file_id,)).fetchone()
        else:
            import sqlite3

            with sqlite3.connect(store.path) as db:
                row = db.execute(sql + "?", (file_id,)).fetchone()
        total += int(row[0])
    return total


@pytest.mark.parametrize("batch", [1, 1_000_000], ids=["flushed", "pending"])
def test_a_file_taken_in_again_after_a_discard_has_its_rows_once(store, tmp_path, monkeypatch,
                                                                  batch):
    written = next(w for w in write_scenario(ReconSpec(seed=5, pharmacies=2, claims=40,
                                                       weeks=1), tmp_path)
                   if w.path.name.endswith(".835"))
    config = load_reconcile_config(tmp_path)
    received = receive(store, written.path, written.partner)
    with store.open_payload(received.sha256) as stream:
        facts = list(f.x12_facts(stream, received.id, received.partner, config, str))
    assert len(facts) > 10
    monkeypatch.setattr(ledger_module, "BATCH", batch)  # batches written, or all pending
    with open_ledger(store) as ledger:
        ingest = ledger.begin(received.id, "835")
        assert ingest is not None
        for fact in facts:  # the parse fed the file's facts...
            ingest.add(fact)
        ingest.discard()  # ...then the file was quarantined: its rows out again
        assert _rows_in_database(store, received.id) == 0
        with store.open_payload(received.sha256) as stream:  # retried and routed
            result = ledger.record_file(received, stream, config, str)
        assert not result.skipped
        assert result.rows == len(facts)
        assert _rows_in_database(store, received.id) == len(facts)
