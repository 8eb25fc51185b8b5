"""The synthetic pharmacy 835 generator: deterministic, balanced, counted, any delimiters."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from x12_arith import check_835, split_segments

from gateway.cli import main
from gateway.synth.pharmacies import is_valid_npi, make_pharmacies, npi_check_digit
from gateway.synth.x12_835 import Spec, write_835
from gateway.synth.x12_writer import Delimiters, cents

DELIMITER_SETS = [
    Delimiters(),
    Delimiters(suffix=""),
    Delimiters(suffix="\r\n"),
    Delimiters(element="|", repetition="!", component=">", terminator="\n", suffix=""),
    Delimiters(element="^", repetition="{", component="\\", terminator="'", suffix="\r\n"),
]


def generate(**kwargs) -> tuple[str, object]:
    out = io.StringIO()
    summary = write_835(out, Spec(**kwargs))
    return out.getvalue(), summary


def test_npi_check_digit_matches_the_cms_worked_example():
    # CMS's published example: 123456789 -> check digit 3.
    assert npi_check_digit("123456789") == "3"
    assert is_valid_npi("1234567893") and not is_valid_npi("1234567890")


def test_pharmacies_are_deterministic_unique_and_valid():
    first, again = make_pharmacies(7, 300), make_pharmacies(7, 300)
    assert first == again
    assert len({p.npi for p in first}) == 300 and len({p.ncpdp_id for p in first}) == 300
    assert all(is_valid_npi(p.npi) for p in first)
    assert all(p.tin.startswith("00") and len(p.tin) == 9 for p in first)
    assert make_pharmacies(8, 5) != first[:5]


def test_cents_formats_x12_decimals():
    assert [cents(v) for v in (0, 1500, -979, 1230, 5, -100)] == [
        "0", "15", "-9.79", "12.3", "0.05", "-1"
    ]


@pytest.mark.parametrize("shape", ["multi-st", "single-st"])
def test_same_spec_same_bytes_other_seed_other_bytes(shape):
    text, _ = generate(shape=shape, payees=4, claims=40, seed=11)
    again, _ = generate(shape=shape, payees=4, claims=40, seed=11)
    other, _ = generate(shape=shape, payees=4, claims=40, seed=12)
    assert text == again
    assert text != other


@pytest.mark.parametrize(
    "delimiters", DELIMITER_SETS, ids=lambda d: repr(d.element + d.terminator)
)
def test_multi_st_balances_and_counts_with_any_delimiters(delimiters):
    text, summary = generate(
        payees=6, claims=120, seed=3, reversal_rate=0.2, denial_rate=0.15, plb_rate=1.0,
        compound_rate=0.3, delimiters=delimiters,
    )
    sets = check_835(text)
    assert len(sets) == 6 == len(summary.sets)
    assert sum(s.claims for s in sets) == 120 == summary.claims
    segments, _ = split_segments(text)
    assert len(segments) == summary.segments
    for found, reported, pharmacy in zip(sets, summary.sets, summary.pharmacies, strict=True):
        assert found.payee_npi == pharmacy.npi == reported.payee_npi
        assert found.bpr02 == reported.payment and found.plb == reported.total_plb
        assert found.plb_providers <= {pharmacy.npi}  # a pharmacy's set: only its PLBs
    # What the file says about each payee: N1*PE XX NPI, REF*D3 NCPDP id, REF*TJ TIN.
    pe = [s for s in segments if s[0] == "N1" and s[1] == "PE"]
    assert all(s[3] == "XX" and is_valid_npi(s[4]) for s in pe)
    d3 = [s[2] for s in segments if s[:2] == ["REF", "D3"]]
    assert d3 == [p.ncpdp_id for p in summary.pharmacies]


def test_multi_st_has_reversals_denials_dir_and_every_plb_kind():
    text, _ = generate(payees=8, claims=300, seed=5, reversal_rate=0.15, denial_rate=0.15,
                       plb_rate=1.0)
    segments, comp = split_segments(text)
    clps = [s for s in segments if s[0] == "CLP"]
    reversals = [s for s in clps if s[2] == "22"]
    denials = [s for s in clps if s[2] == "4"]
    assert reversals and all(Decimal(s[3]) < 0 and Decimal(s[4]) <= 0 for s in reversals)
    assert denials and all(Decimal(s[4]) == 0 for s in denials)
    assert any(s[0] == "CAS" and "295" in s[2::3] for s in segments)  # DIR
    assert any(s[:3] == ["CAS", "PR", "3"] for s in segments)  # copay
    reasons = {s[i].split(comp)[0] for s in segments if s[0] == "PLB" for i in range(3, len(s), 2)}
    assert {"WO", "L6", "FB", "CS", "AH"} <= reasons
    plb_amounts = [Decimal(s[i]) for s in segments if s[0] == "PLB" for i in range(4, len(s), 2)]
    assert any(a > 0 for a in plb_amounts) and any(a < 0 for a in plb_amounts)
    svcs = [s for s in segments if s[0] == "SVC"]
    assert all(s[1].startswith("N4" + comp) and len(s[1].split(comp)[1]) == 11 for s in svcs)
    assert sum(1 for s in segments if s[:2] == ["REF", "6R"]) == len(svcs)
    assert sum(1 for s in segments if s[:2] == ["DTM", "472"]) == len(svcs)


@pytest.mark.parametrize("delimiters", DELIMITER_SETS[:4], ids=lambda d: repr(d.element))
def test_single_st_central_pay_balances_and_names_every_pharmacy(delimiters):
    text, summary = generate(shape="single-st", payees=5, claims=80, seed=9, plb_rate=1.0,
                             reversal_rate=0.2, delimiters=delimiters)
    (found,) = check_835(text)  # also checks TS304/TS305 against each LX group's claims
    (reported,) = summary.sets
    assert found.claims == 80 and found.bpr02 == reported.payment
    npis = {p.npi for p in summary.pharmacies}
    assert found.payee_npi == reported.payee_npi == summary.psao.npi
    assert found.payee_npi not in npis
    assert found.plb_providers == npis | {found.payee_npi}  # pharmacies' PLBs and the PSAO's
    segments, _ = split_segments(text)
    assert [s[1] for s in segments if s[0] == "TS3"] == [p.npi for p in summary.pharmacies]
    rendering = [s for s in segments if s[:2] == ["NM1", "82"]]
    assert len(rendering) == 80 and {s[9] for s in rendering} == npis
    assert not any(s[:2] == ["REF", "D3"] for s in segments)  # the payee is the PSAO


def test_cli_writes_file_and_roster(tmp_path, capsys):
    out, roster = tmp_path / "cp.835", tmp_path / "roster.csv"
    code = main(["synth", "835", "--payees", "3", "--claims", "15", "--seed", "4",
                 "--segment", "newline", "--element", "|", "-o", str(out),
                 "--roster", str(roster)])
    assert code == 0
    text = out.read_text(encoding="ascii")
    assert text.startswith("ISA|") and text[105] == "\n"
    sets = check_835(text)
    rows = list(csv.DictReader(roster.open(encoding="utf-8")))
    assert [r["npi"] for r in rows] == [s.payee_npi for s in sets]
    assert set(rows[0]) == {"pharmacy_id", "name", "npi", "ncpdp_id", "tin"}
    assert "3 transaction set(s), 15 claims" in capsys.readouterr().err


def test_cli_rejects_clashing_delimiters_without_traceback(capsys):
    code = main(["synth", "835", "--element", "~", "-o", "/dev/null"])
    assert code == 2
    assert "delimiters must all differ" in capsys.readouterr().err


SAMPLES = {
    "central_pay_multi_st.835": ["--payees", "5", "--claims", "40", "--seed", "1"],
    "central_pay_single_st.835": ["--shape", "single-st", "--payees", "4", "--claims", "30",
                                  "--seed", "2"],
    "reversals_plb.835": ["--payees", "2", "--claims", "30", "--seed", "3", "--reversal-rate",
                          "0.25", "--denial-rate", "0.15", "--compound-rate", "0.2",
                          "--plb-rate", "1"],
    "pipe_newline.835": ["--payees", "2", "--claims", "10", "--seed", "4", "--element", "|",
                         "--component", ">", "--repetition", "!", "--segment", "newline"],
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_committed_samples_are_what_samples_readme_says(name, tmp_path):
    """samples/README.md gives each sample's command: it must reproduce the committed bytes."""
    sample = Path(__file__).resolve().parent.parent / "samples" / "x12" / name
    out = tmp_path / name
    assert main(["synth", "835", *SAMPLES[name], "-o", str(out)]) == 0
    assert out.read_bytes() == sample.read_bytes()
    check_835(sample.read_text(encoding="ascii"))


@pytest.mark.parametrize("shape", ["multi-st", "single-st"])
@pytest.mark.parametrize("delimiters", DELIMITER_SETS[2:], ids=lambda d: repr(d.element))
def test_the_reader_reads_generated_files_with_the_generated_totals(shape, delimiters):
    from gateway.x12.read.reader import read_835

    text, summary = generate(shape=shape, payees=4, claims=60, seed=6, plb_rate=1.0,
                             reversal_rate=0.15, denial_rate=0.1, delimiters=delimiters)
    findings: list = []
    remittances = list(read_835(io.BytesIO(text.encode("ascii")), findings=findings))
    assert findings == []
    assert len(remittances) == len(summary.sets)
    for remittance, expected in zip(remittances, summary.sets, strict=True):
        assert remittance.control_number == expected.control_number
        assert remittance.payee.npi == expected.payee_npi
        assert remittance.payment.amount == expected.payment
        assert remittance.total_claim_paid == expected.total_paid
        assert remittance.total_provider_adjustments == expected.total_plb
        assert len(remittance.claims) == expected.claims
    npis = [p.npi for p in summary.pharmacies]
    if shape == "single-st":
        (remittance,) = remittances
        assert [g.provider_id for g in remittance.groups] == npis
        assert all(c.rendering_provider_npi == c.provider_id for c in remittance.claims)
    else:
        assert [r.payee.ncpdp_id for r in remittances] == [p.ncpdp_id for p in summary.pharmacies]
        assert {a.provider_id for r in remittances for a in r.provider_adjustments} <= set(npis)
