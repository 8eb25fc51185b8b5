"""The ledger: idempotent ingest (a file routed again after a crash never doubles its rows)
and no PHI in any row, on SQLite and PostgreSQL."""

from __future__ import annotations

from recon_support import load_scenario, receive

from gateway.reconcile.ledgers import open_ledger
from gateway.reconcile.pharmacies import roster_pharmacy_of
from gateway.synth.recon import ReconSpec


def _counts(ledger, loaded) -> dict[str, int]:
    with ledger.reading() as reads:
        return {name: sum(1 for _ in reads.rows(f"stream_{name}", loaded.scope().params()))
                for name in ("requests", "responses", "claim_payments", "provider_adjustments")}


def test_ingest_again_after_a_crash_does_not_double_rows(store, tmp_path):
    spec = ReconSpec(seed=7, pharmacies=2, claims=60, weeks=3)
    with open_ledger(store) as ledger:
        loaded = load_scenario(store, ledger, spec, tmp_path / "s")
        before = _counts(ledger, loaded)
        pharmacy_of = roster_pharmacy_of(loaded.roster)
        # A crash mid-ingest: the file is marked ingesting and holds some of its rows.
        victim = loaded.files[-1]
        received = receive(store, victim.path, victim.partner)  # a duplicate receipt...
        received = store.get_file(received.duplicate_of)  # ...names the first copy
        ledger._begin(received.id, "835")
        assert _counts(ledger, loaded)["claim_payments"] < before["claim_payments"]
        for written in loaded.files:  # the pipeline routes every file again
            again = store.list_files(limit=1000)
            first = next(f for f in again if f.original_name == written.path.name
                         and f.duplicate_of is None)
            with store.open_payload(first.sha256) as stream:
                result = ledger.record_file(first, stream, loaded.config, pharmacy_of)
            assert result.skipped == (first.id != received.id)
        assert _counts(ledger, loaded) == before
