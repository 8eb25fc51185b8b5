"""`gateway reconcile` and `gateway audit-pack` on a daemon's workspace: the demo's files
pulled, parsed and routed by a real daemon cycle, whose pipeline filled the claims ledger."""

from __future__ import annotations

import csv
import json

import pytest

from gateway.cli import main
from gateway.config.settings import load_settings
from gateway.daemon.loop import Daemon
from gateway.errors import ConfigError
from gateway.ops.demo import folder_workspace
from gateway.ops.demo_claims import add_claims_partner
from gateway.reconcile.config import load_reconcile_config


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    config, samples = folder_workspace(root)
    add_claims_partner(root, samples)
    assert Daemon(load_settings(config)).run(once=True) == 0
    return config


def _member(config) -> str:
    with (config.parent / "partners" / "members.csv").open() as handle:
        return next(csv.DictReader(handle))["pharmacy_id"]


def test_reconcile_writes_every_format(workspace, tmp_path, capsys):
    pharmacy = _member(workspace)
    common = ["reconcile", "--config", str(workspace), "--pharmacy", pharmacy,
              "--from", "2025-12-01", "--to", "2026-01-31", "--as-of", "2026-01-31"]
    for fmt in ("csv", "json", "html"):
        assert main([*common, "--format", fmt, "--out", str(tmp_path / f"r.{fmt}")]) == 0
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    outcomes = {row["outcome"] for row in rows}
    assert {"paid", "short-paid", "unpaid"} <= outcomes
    assert all(row["pharmacy"] == pharmacy and row["pbm"] == "demo-pbm" for row in rows)
    summary = json.loads((tmp_path / "r.json").read_text())
    assert summary["claims"] == sum(1 for r in rows if r["outcome"] != "unmatched-payment")
    assert summary["outcomes"]["short-paid"]["variance"] == "-5.00"
    assert "<svg" in (tmp_path / "r.html").read_text()
    assert "claims of" in capsys.readouterr().err


def test_audit_pack_shows_the_trail_and_what_is_missing(workspace, tmp_path):
    pharmacy = _member(workspace)
    assert main(["reconcile", "--config", str(workspace), "--pharmacy", pharmacy,
                 "--from", "2025-12-01", "--to", "2026-01-31", "--as-of", "2026-01-31",
                 "--out", str(tmp_path / "r.csv")]) == 0
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    paid = next(r for r in rows if r["outcome"] == "paid")
    unpaid = next(r for r in rows if r["outcome"] == "unpaid")
    (tmp_path / "letter.csv").write_text(
        f"rx_number,date_of_service\n{paid['rx_number']},{paid['date_of_service']}\n"
        f"{unpaid['rx_number']},\n123456789,2026-01-05\n")
    assert main(["audit-pack", "--config", str(workspace), "--pharmacy", pharmacy,
                 "--pbm", "demo-pbm", "--rx-list", str(tmp_path / "letter.csv"),
                 "--as-of", "2026-01-31", "--out", str(tmp_path / "pack")]) == 0
    trail = list(csv.DictReader((tmp_path / "pack" / "audit.csv").open()))
    mine = [r for r in trail if r["rx_number"] == paid["rx_number"]]
    records = [r["record"] for r in mine]
    assert records[:3] == ["claim submitted", "adjudicated", "payment"]
    assert set(records[3:-1]) == {"service line"} and records[-1] == "outcome"
    payment = mine[2]
    assert payment["trace_number"] == paid["traces"] and payment["file"].endswith(".835")
    assert mine[0]["file"].startswith("claims-") and mine[-1]["detail"] == "nothing missing"
    assert any(r["detail"].startswith("no payment received") for r in trail
               if r["rx_number"] == unpaid["rx_number"])
    assert any(r["detail"] == "no claim and no payment for this Rx in the ledger"
               for r in trail if r["rx_number"] == "123456789")
    assert paid["rx_number"] in (tmp_path / "pack" / "audit.html").read_text()


def test_rules_are_checked_with_file_key_and_fix(tmp_path):
    (tmp_path / "reconcile.toml").write_text(
        '[[pbm]]\nid = "x"\nclp01 = "^[0-9]+$"\nbinz = []\n\n[reports]\nschedule = "daily"\n')
    with pytest.raises(ConfigError) as raised:
        load_reconcile_config(tmp_path)
    text = str(raised.value)
    assert "reconcile.toml" in text and "pbm[0].clp01" in text and "(?P<rx>" in text
    assert "pbm[0].binz" in text and "reports.schedule" in text
