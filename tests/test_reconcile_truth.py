"""The reconciliation report equals the generator's truth, claim by claim and total by total,
on SQLite and on the real PostgreSQL, for several seeds with every outcome present."""

from __future__ import annotations

from decimal import Decimal

import pytest
from recon_support import load_scenario

from gateway.reconcile.ledgers import open_ledger
from gateway.reconcile.outcomes import OUTCOMES
from gateway.reconcile.report import reconcile
from gateway.synth.recon import ReconSpec


def _key(row: dict) -> tuple:
    return (row["pharmacy"], row["pbm"], row["rx_number"], _text(row["fill_number"]),
            str(row["date_of_service"]))


def _text(value) -> str:
    return "" if value is None else str(value)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_report_equals_the_truth(store, tmp_path, seed):
    with open_ledger(store) as ledger:
        loaded = load_scenario(store, ledger, ReconSpec(seed=seed, claims=260, weeks=6),
                               tmp_path / "scenario")
        truth = {_key(row): row for row in loaded.truth_rows()}
        assert {row["outcome"] for row in truth.values()} == set(OUTCOMES) - {"no-response"}
        found = {}
        summaries = {}
        for member in loaded.roster:
            outcomes = []
            summaries[member.pharmacy_id] = reconcile(
                ledger, loaded.scope(member.pharmacy_id), loaded.config, outcomes.append)
            for outcome in outcomes:
                row = {name: getattr(outcome, name) for name in (
                    "pharmacy", "pbm", "rx_number", "fill_number", "date_of_service")}
                assert _key(row) not in found, f"claim reported twice: {_key(row)}"
                found[_key(row)] = outcome
    assert sorted(found) == sorted(truth)
    for key, expected in truth.items():
        got = found[key]
        assert (got.outcome, _text(got.expected), str(got.paid), _text(got.variance),
                _text(got.age_days), _text(got.aging_bucket)) == (
            expected["outcome"], expected["expected"], expected["paid"], expected["variance"],
            expected["age_days"], expected["aging_bucket"]), key
        if expected["reason"]:
            assert expected["reason"] in got.adjustments, (key, got.adjustments)
    truth_summary = loaded.truth_summary()["pharmacies"]
    for pharmacy, summary in summaries.items():
        for pbm, totals in truth_summary[pharmacy].items():
            mine = summary.by_pbm[pbm]
            assert {k: str(v) for k, v in sorted(mine.plb.items())} == totals["plb"], pbm
            assert str(mine.dir_claims) == totals["dir_claims"]
            assert str(mine.dir_plb) == totals["dir_plb"]
            assert mine.dir_total == Decimal(totals["dir_claims"]) + Decimal(totals["dir_plb"])
            assert (mine.payments, str(mine.paid)) == (totals["payments"], totals["paid"])
