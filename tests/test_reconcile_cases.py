"""Named reconciliation cases, each on claims the generator planted for it, judged by the real
ledger (SQLite here; the truth test runs every case on PostgreSQL too)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from recon_support import load_scenario

from gateway.reconcile.config import load_reconcile_config
from gateway.reconcile.ledgers import open_ledger
from gateway.reconcile.report import reconcile
from gateway.store import open_store
from gateway.synth.recon import PBMS, ReconSpec, Scenario
from gateway.synth.recon_files import reconcile_toml


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    """Every claim's outcome of one scenario, by (rx, fill, date of service), and the
    scenario's claims by kind."""
    root = tmp_path_factory.mktemp("cases")
    spec = ReconSpec(seed=5, claims=240, weeks=6)
    with open_store(f"sqlite:///{root}/gateway.db") as store, open_ledger(store) as ledger:
        loaded = load_scenario(store, ledger, spec, root / "scenario")
        outcomes = []
        for member in loaded.roster:
            reconcile(ledger, loaded.scope(member.pharmacy_id), loaded.config, outcomes.append)
    by_key = {(o.pharmacy, o.rx_number, o.fill_number, o.date_of_service): o for o in outcomes}
    scenario = Scenario(spec)
    kinds: dict[str, list] = {}
    for claim in scenario.claims():
        kinds.setdefault(claim.kind, []).append(claim)
    return by_key, kinds, scenario


def _outcome(judged, claim):
    by_key, _, scenario = judged
    pharmacy = scenario.pharmacies[claim.pharmacy].pharmacy_id
    return by_key[(pharmacy, claim.rx, claim.fill, claim.dos)]


def test_reversal_nets_out_against_its_original(judged):
    _, kinds, _ = judged
    for claim in kinds["reversed-paid"]:  # B1 paid, B2 accepted; CLP paid, then CLP02=22
        outcome = _outcome(judged, claim)
        assert (outcome.outcome, outcome.payments, outcome.reversals) == ("reversed", 2, 1)
        assert outcome.paid == Decimal("0.00") and outcome.variance == Decimal("0.00")
    for claim in kinds["reversed"]:  # reversed at the point of sale, never paid
        assert _outcome(judged, claim).outcome == "reversed"


def test_clp01_patterns_of_three_pbm_styles(tmp_path):
    (tmp_path / "reconcile.toml").write_text(reconcile_toml())
    config = load_reconcile_config(tmp_path)
    alpha, beta, gamma = PBMS
    assert config.claim_number(alpha.id, "000123456").rx_number == "123456"
    assert config.claim_number(alpha.id, "123456").fill_number is None
    assert config.claim_number(alpha.id, "123456-03").fill_number == 3  # the default pattern
    beta_number = config.claim_number(beta.id, beta.claim_id("123456", 3))
    assert (beta_number.rx_number, beta_number.fill_number) == ("123456", 3)
    gamma_number = config.claim_number(gamma.id, gamma.claim_id("123456", 11))
    assert (gamma_number.rx_number, gamma_number.fill_number) == ("123456", 11)
    assert config.claim_number(beta.id, "12345FILL2") is None  # not beta's style


def test_every_pbm_style_matches_its_claims(judged):
    _, kinds, _ = judged
    for index, style in enumerate(PBMS):
        mine = [c for c in kinds["paid"] if c.pbm == index]
        assert mine, style.id
        assert all(_outcome(judged, c).outcome == "paid" for c in mine), style.id


def test_payment_split_over_two_835s(judged):
    _, kinds, _ = judged
    assert kinds["split"]
    for claim in kinds["split"]:  # a part in one cycle's 835, the rest two cycles later
        outcome = _outcome(judged, claim)
        assert outcome.outcome == "paid" and outcome.payments == 2
        assert len(outcome.traces.split("|")) == 2  # two payments, two trace numbers
        assert outcome.paid == Decimal(claim.expected).scaleb(-2)


def test_claim_paid_twice(judged):
    _, kinds, _ = judged
    assert kinds["twice"]
    for claim in kinds["twice"]:
        outcome = _outcome(judged, claim)
        assert outcome.outcome == "paid-twice" and outcome.payments == 2
        assert outcome.variance == outcome.expected and outcome.reversals == 0


def test_rebill_replaces_the_original_amount(judged):
    _, kinds, _ = judged
    for claim in kinds["rebill"]:
        outcome = _outcome(judged, claim)
        assert (outcome.outcome, outcome.transaction_code) == ("paid", "B3")
        assert outcome.expected == Decimal(claim.expected).scaleb(-2)
