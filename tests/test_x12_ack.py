"""999 and TA1 acknowledgments: written from findings, and valid under pyx12's 999 map."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from x12_arith import split_segments

from gateway.errors import Location
from gateway.synth.x12_835 import Spec, write_835
from gateway.x12.read.received import received_interchanges
from gateway.x12.syntax.findings import Finding, Level
from gateway.x12.tr3.pyx12_reference import Tr3Validator
from gateway.x12.write.ack import write_999, write_ta1
from gateway.x12.write.control_numbers import MemoryControlNumbers

NOW = datetime(2026, 1, 6, 8, 30)


@pytest.fixture(scope="module")
def validator() -> Tr3Validator:
    return Tr3Validator()


def generated(**kwargs) -> str:
    out = io.StringIO()
    write_835(out, Spec(**kwargs))
    return out.getvalue()


def segments_of(text: str) -> list[list[str]]:
    return split_segments(text)[0]


def ack_999(text: str, findings: list[Finding]) -> str:
    (interchange,) = received_interchanges(segments_of(text))
    return write_999(interchange, findings, numbers=MemoryControlNumbers(first=7),
                     destination="pbm", key="f1", now=NOW)


def test_999_for_an_accepted_835_is_complete_and_valid(validator):
    text = generated(payees=3, claims=12, seed=1)
    ack = ack_999(text, validator.validate(io.StringIO(text)))
    segs = segments_of(ack)
    ids = [s[0] for s in segs]
    assert ids == ["ISA", "GS", "ST", "AK1"] + ["AK2", "IK5"] * 3 + ["AK9", "SE", "GE", "IEA"]
    assert segs[0][6].strip() == "EXAMPLEPSAO" and segs[0][8].strip() == "EXAMPLEPBM"
    assert segs[0][13] == "000000007" and segs[1][6] == "7"  # from the caller's counter
    assert segs[3] == ["AK1", "HP", "1", "005010X221A1"]
    assert [s for s in segs if s[0] == "AK2"][1] == ["AK2", "835", "0002", "005010X221A1"]
    assert all(s == ["IK5", "A"] for s in segs if s[0] == "IK5")
    assert segs[-4] == ["AK9", "A", "3", "3", "3"]
    assert segs[-3][1] == str(len(segs) - 4)  # SE01 counts ST..SE
    assert validator.validate(io.StringIO(ack)) == []  # pyx12's 999 map: no errors


def test_pyx12s_own_999_is_truncated_and_ours_is_not(validator):
    """Defect 1: pyx12 takes AK203 from ST03 (the 835 has none) and stops after AK1."""
    import pyx12.params
    import pyx12.x12n_document

    text = generated(payees=2, claims=4)
    theirs = io.StringIO()
    pyx12.x12n_document.x12n_document(pyx12.params.params(), io.StringIO(text), theirs, None)
    their_ids = [s[0] for s in segments_of(theirs.getvalue())] if theirs.getvalue() else []
    assert "AK2" not in their_ids and "AK9" not in their_ids
    ours = [s[0] for s in segments_of(ack_999(text, []))]
    assert ours.count("AK2") == 2 and "AK9" in ours


def test_999_for_a_partly_rejected_835_names_segment_and_element(validator):
    text = generated(payees=3, claims=9, seed=3)
    second = text.index("ST*835*0002")
    clp = text.index("CLP*", second)
    fields = text[clp:text.index("~", clp)].split("*")
    fields[6] = "CI"
    bad = text[:clp] + "*".join(fields) + text[text.index("~", clp):]
    findings = validator.validate(io.StringIO(bad))
    assert len(findings) == 1
    ack = ack_999(bad, findings)
    segs = segments_of(ack)
    body = [s for s in segs if s[0] in ("AK2", "IK3", "IK4", "IK5")]
    assert body[2:6] == [
        ["AK2", "835", "0002", "005010X221A1"],
        ["IK3", "CLP", str(findings[0].segment_position), "", "8"],
        ["IK4", "6", "", "7"],
        ["IK5", "R", "5"],
    ]
    assert ["AK9", "P", "3", "3", "2"] in segs
    assert validator.validate(io.StringIO(ack)) == []


def test_999_for_a_rejected_set_and_group_from_structural_findings(validator):
    text = generated(payees=1, claims=3)
    findings = [
        Finding("se-count", "SE01 says 40, counted 41", Level.TRANSACTION,
                Location(segment_number=40, segment_id="SE"), transaction_set="0001",
                x12_code="4"),
        Finding("unbalanced-bpr", "BPR02 does not balance", Level.SEGMENT,
                Location(segment_number=4, segment_id="BPR"), transaction_set="0001",
                segment_position=2, element_position=2),
        Finding("ge-count", "GE01 wrong", Level.GROUP, Location(segment_id="GE"), x12_code="5"),
    ]
    segs = segments_of(ack_999(text, findings))
    assert ["IK3", "BPR", "2", "", "8"] in segs and ["IK4", "2", "", "I12"] in segs
    assert ["IK5", "R", "4", "5"] in segs
    assert ["AK9", "R", "1", "1", "0", "5"] in segs
    assert validator.validate(io.StringIO(ack_999(text, findings))) == []


def test_warnings_give_accepted_with_errors(validator):
    text = generated(payees=1, claims=2)
    warning = Finding("pyx12-rarc-unknown", "RARC not in pyx12's list", Level.SEGMENT,
                      Location(segment_id="MOA"), fatal=False, transaction_set="0001",
                      segment_position=9, element_position=3, x12_code="7")
    segs = segments_of(ack_999(text, [warning]))
    assert ["IK5", "E", "5"] in segs and ["AK9", "E", "1", "1", "1"] in segs


def test_ta1_rejects_a_bad_interchange_header(validator):
    text = generated(payees=1, claims=2).replace("IEA*1*000000001", "IEA*1*000000002")
    findings = validator.validate(io.StringIO(text))
    assert ("pyx12-isa-001", Level.INTERCHANGE) in [(f.code, f.level) for f in findings]
    (interchange,) = received_interchanges(segments_of(text))
    ta1 = write_ta1(interchange, findings, numbers=MemoryControlNumbers(first=42),
                    destination="pbm", key="f1", now=NOW)
    segs = segments_of(ta1)
    assert [s[0] for s in segs] == ["ISA", "TA1", "IEA"]
    assert segs[1] == ["TA1", "000000001", "260105", "1200", "R", "001"]
    assert segs[0][13] == "000000042" and segs[2] == ["IEA", "0", "000000042"]
    assert len(ta1.split("~")[0]) == 105  # a fixed-width ISA


def test_ta1_defaults_and_acceptance():
    text = generated(payees=1, claims=2)
    (interchange,) = received_interchanges(segments_of(text))
    bad_isa = Finding("isa-length", "ISA is 104 characters", Level.INTERCHANGE,
                      Location(segment_number=1, segment_id="ISA"))
    counter = MemoryControlNumbers()
    rejected = segments_of(write_ta1(interchange, [bad_isa], numbers=counter, destination="pbm",
                                     key="a", now=NOW))
    accepted = segments_of(write_ta1(interchange, [], numbers=counter, destination="pbm",
                                     key="b", now=NOW))
    assert rejected[1][4:] == ["R", "022"]  # invalid control structure when none is named
    assert accepted[1][4:] == ["A", "000"]


def test_received_interchanges_tolerates_missing_trailers():
    text = generated(payees=2, claims=4)
    cut = text[: text.index("SE*", text.index("ST*835*0002"))]
    (interchange,) = received_interchanges(segments_of(cut + "~"))
    (group,) = interchange.groups
    assert [s.control_number for s in group.sets] == ["0001", "0002"]
    assert group.declared_sets is None and group.version == "005010X221A1"
