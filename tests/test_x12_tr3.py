"""TR3 validation through pyx12, and each known pyx12 4.0.0 defect handled (small files only)."""

from __future__ import annotations

import io

import pytest
import pyx12.params
import pyx12.x12n_document

from gateway.errors import Location
from gateway.synth.x12_835 import Spec, write_835
from gateway.x12.syntax.findings import Finding, Level
from gateway.x12.tr3.pyx12_reference import Tr3Validator


@pytest.fixture(scope="module")
def validator() -> Tr3Validator:
    return Tr3Validator()


def generated(**kwargs) -> str:
    out = io.StringIO()
    write_835(out, Spec(**kwargs))
    return out.getvalue()


def pyx12_accepts(text: str) -> bool:
    """pyx12's own top-level validation, untouched (to show what the defects are)."""
    return pyx12.x12n_document.x12n_document(
        pyx12.params.params(), io.StringIO(text), None, None
    )


def test_generated_single_st_central_pay_passes_with_the_plb_workaround(validator):
    text = generated(shape="single-st", payees=4, claims=25, seed=2, plb_rate=1.0)
    assert text.count("PLB*") >= 3
    assert not pyx12_accepts(text)  # defect 2: pyx12 alone rejects the repeated PLB
    assert validator.validate(io.StringIO(text)) == []


def test_generated_multi_st_files_pass_and_every_delimiter_set_too(validator, tmp_path):
    from gateway.synth.x12_writer import Delimiters

    for delimiters in (Delimiters(), Delimiters(element="|", component=">", repetition="!",
                                                terminator="\n", suffix="")):
        path = tmp_path / "cp.835"
        path.write_text(generated(payees=3, claims=30, seed=8, reversal_rate=0.2,
                                  denial_rate=0.2, plb_rate=1.0, delimiters=delimiters))
        assert validator.validate(path) == []


def test_a_bad_plb_is_still_reported_after_the_workaround(validator):
    text = generated(shape="single-st", payees=3, claims=12, seed=2, plb_rate=1.0)
    at = text.rindex("PLB*")  # the last PLB (the PSAO's own) gets an impossible date
    bad = text[:at] + text[at:].replace("*20261231*", "*20261399*", 1)
    findings = validator.validate(io.StringIO(bad))
    assert [(f.location.segment_id, f.element_position, f.x12_code) for f in findings] == [
        ("PLB", 2, "8")  # IK403 8: invalid date
    ]


def test_an_element_error_names_set_segment_position_and_element(validator):
    text = generated(payees=2, claims=6, seed=4)
    lines = text.splitlines()
    clp_at = next(i for i, line in enumerate(lines) if line.startswith("CLP*"))
    fields = lines[clp_at].split("*")
    fields[6] = "CI"  # not a claim filing indicator the 835 allows
    lines[clp_at] = "*".join(fields)
    st_at = max(i for i in range(clp_at) if lines[i].startswith("ST*"))
    (finding,) = validator.validate(io.StringIO("\n".join(lines) + "\n"))
    assert finding.fatal and finding.level is Level.SEGMENT
    assert finding.location.segment_number == clp_at + 1 and finding.location.element == "CLP06"
    assert finding.segment_position == clp_at - st_at + 1
    assert finding.element_position == 6 and finding.x12_code == "7"
    assert finding.transaction_set == "0001" and finding.group_control_number == "1"


def test_unknown_version_is_a_group_rejection_not_a_crash(validator):
    text = generated(payees=1, claims=2).replace("005010X221A1", "005010X299", 1)
    with pytest.raises(Exception, match="Map not found"):
        pyx12_accepts(text)  # defect 4
    findings = validator.validate(io.StringIO(text))
    assert [(f.code, f.level, f.fatal, f.x12_code) for f in findings] == [
        ("tr3-unsupported-version", Level.GROUP, True, "2")
    ]


def test_stale_rarc_list_gives_a_warning_not_a_rejection(validator):
    text = generated(payees=1, claims=1, seed=1, reversal_rate=0, denial_rate=0)
    lines = text.splitlines()
    nm1 = next(i for i, line in enumerate(lines) if line.startswith("NM1*QC"))
    lines.insert(nm1 + 1, "MOA***N950~")  # a current RARC beyond pyx12's list (ends near N734)
    se = next(i for i, line in enumerate(lines) if line.startswith("SE*"))
    count = int(lines[se].split("*")[1]) + 1
    lines[se] = f"SE*{count}*0001~"
    findings = validator.validate(io.StringIO("\n".join(lines) + "\n"))
    assert [(f.code, f.fatal, f.element_position) for f in findings] == [
        ("pyx12-rarc-unknown", False, 3)
    ]


def test_structural_defects_that_mislead_pyx12_stop_it(validator, tmp_path):
    """pyx12 stops silently at ``~~`` (defect 3): our reader's finding must stand alone."""
    from gateway.x12.read.reader import read_835

    text = generated(payees=2, claims=6).replace("~\nDTM*405", "~\n~\nDTM*405", 1)
    path = tmp_path / "empty.835"
    path.write_text(text)
    alone = validator.validate(path)
    assert not any("empty" in f.code or "empty" in f.message.lower() for f in alone)
    structural: list[Finding] = []
    with open(path, "rb") as stream:
        list(read_835(stream, file_name=str(path), findings=structural))
    assert any(f.code == "empty-segment" and f.fatal for f in structural)
    assert validator.validate(path, structural=structural) == structural
    hand_made = Finding("empty-segment", "empty segment", Level.SEGMENT,
                        Location(file=str(path), segment_number=7), transaction_set="0001")
    assert validator.validate(path, structural=[hand_made]) == [hand_made]


def test_leading_bytes_and_non_x12_input(validator, tmp_path):
    bom = tmp_path / "bom.835"
    bom.write_bytes(b"\xef\xbb\xbf\r\n" + generated(payees=1, claims=2).encode())
    assert validator.validate(bom) == []  # defect 6: pyx12 alone needs ISA at byte 0
    junk = tmp_path / "junk.txt"
    junk.write_text("hello, this is not X12\n")
    (finding,) = validator.validate(junk)
    assert finding.code == "pyx12-not-x12" and finding.level is Level.INTERCHANGE


def test_pyx12_crashing_on_odd_input_is_a_warning_not_a_traceback(validator):
    """pyx12 raises ValueError on an empty GE01 (found by fuzzing): what it found is kept."""
    text = generated(payees=2, claims=4).replace("GE*2*1~", "GE**1~")
    findings = validator.validate(io.StringIO(text))
    assert ("pyx12-gs-5", True) in [(f.code, f.fatal) for f in findings]  # GE count wrong
    assert findings[-1].code == "tr3-incomplete" and not findings[-1].fatal
    assert "ValueError" in findings[-1].message


CORPUS_VALID = [
    "835/badx12/X221-multiple-claims-single-check.edi",
    "835/badx12/X221-secondary-payments.edi",
    "835/edi-835-parser/emedny_sample.txt",
    "835/pyx12/835_mult_loops.txt",
    "835/pyx12/835id_4010_crlf.txt",
    # pyx12 alone rejects it ("Loop FOOTER exceeded max count"): several PLBs (defect 2).
    "835/hdi-api-examples/835-provider-level-adjustment.dat",
]


def test_corpus_files_pyx12_accepts_pass_and_malformed_ones_never_crash(validator,
                                                                        shared_corpus):
    for name in CORPUS_VALID:
        assert validator.validate(shared_corpus / "x12" / name) == [], name
    for path in sorted((shared_corpus / "x12" / "malformed").iterdir()):
        if "expected997" in path.name:
            continue
        findings = validator.validate(path)
        assert findings and any(f.fatal for f in findings), path.name
        assert not any(f.code == "tr3-incomplete" for f in findings), path.name
    (unsupported,) = validator.validate(
        shared_corpus / "x12" / "malformed" / "badx12_error_validation.edi")
    assert unsupported.code == "tr3-unsupported-version"  # GS01 HPO: pyx12 raised here
