"""`gateway split` and `gateway route` as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from split_support import generate, write_members

from gateway.cli import main

REPO = Path(__file__).resolve().parent.parent


def test_split_writes_parts_manifest_and_balance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, summary = generate(tmp_path, shape="single-st", payees=3, claims=12, seed=41)
    out = tmp_path / "out"
    assert main(["split", str(source), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "balances" in printed and "DOES NOT" not in printed
    manifest = json.loads((out / f"{source.name}.split.json").read_text())
    assert sorted(p["npi"] for p in manifest["parts"]) == sorted(
        p.npi for p in summary.pharmacies
    )
    assert all(Path(p["location"]).is_file() for p in manifest["parts"])
    assert manifest["psao_adjustments"]  # the generator charges the PSAO its own fees
    # a second run reuses the counter: same control numbers, same files
    before = {p["location"]: Path(p["location"]).read_bytes() for p in manifest["parts"]}
    assert main(["split", str(source), "--out", str(out)]) == 0
    assert {k: Path(k).read_bytes() for k in before} == before


def test_split_with_members_holds_the_unknown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, summary = generate(tmp_path, shape="multi-st", payees=3, claims=9, seed=42)
    members = write_members(tmp_path, summary.pharmacies[1:])
    out = tmp_path / "out"
    code = main(["split", str(source), "--out", str(out), "--members", str(members),
                 "--psao", str(REPO / "partners" / "psao.toml")])
    assert code == 0
    printed = capsys.readouterr().out
    assert printed.count("HELD") == 1 and "not in the member roster" in printed
    assert len(list((out / "held").glob("*.835"))) == 1
    written = next(out.glob("PH*.835")).read_text()
    assert written.startswith("ISA*00*          *00*          *ZZ*EXAMPLEPSAO    *ZZ*")


def test_route_shows_destinations_and_holds_without_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, summary = generate(tmp_path, shape="single-st", payees=2, claims=6, seed=43)
    members = write_members(tmp_path, summary.pharmacies[:1], formats="835|json")
    assert main(["route", str(source), "--members", str(members), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted((line["format"], bool(line["held"])) for line in lines) == [
        ("835", False), ("835", True), ("json", False)
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.835", "members.csv"]


def test_errors_are_one_line_with_the_right_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["split", str(tmp_path / "missing.835"), "--out", str(tmp_path)]) == 2
    bad = tmp_path / "bad.835"
    bad.write_text("not x12 at all")
    assert main(["split", str(bad), "--out", str(tmp_path / "o")]) == 1
    roster = tmp_path / "members.csv"
    roster.write_text("pharmacy_id,name,npi,ncpdp_id,tin,active,destination,formats\n"
                      "1,A,123,1,1,true,ftp:/x,835\n")
    source, _ = generate(tmp_path, shape="single-st", payees=1, claims=2, seed=1)
    assert main(["route", str(source), "--members", str(roster)]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 3 and "members.csv:2: npi" in errors[2]
    assert "does not start with ISA" in errors[1]
