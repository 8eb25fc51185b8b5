"""Issue 10, items 4 and 7 (and Build 4): acknowledgments that tell the truth, and non-ASCII
where digits belong ending in a located finding. Every 999 and TA1 written here is
validated by pyx12's own 999/TA1 map. Each test fails on the main of 2026-12-02.
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path

import pytest
from x12_arith import split_segments
from x12_compose import interchange, write

from gateway.cli import main
from gateway.errors import InputError
from gateway.routing.policy import ProviderPolicy
from gateway.x12.read.reader import read_835
from gateway.x12.read.received import read_envelopes
from gateway.x12.split.splitter import split_835
from gateway.x12.split.writers import DirectoryPartWriter
from gateway.x12.syntax.findings import Finding
from gateway.x12.tr3.pyx12_reference import Tr3Validator
from gateway.x12.write.ack import Acknowledgment, acknowledgments
from gateway.x12.write.control_numbers import MemoryControlNumbers

NOW = datetime(2026, 1, 6, 8, 30)


@pytest.fixture(scope="module")
def pyx12() -> Tr3Validator:
    return Tr3Validator()


def _findings(data: bytes) -> list[Finding]:
    findings: list[Finding] = []
    try:
        for _ in read_835(io.BytesIO(data), file_name="in.835", findings=findings):
            pass
    except InputError as exc:
        raise AssertionError(f"collect mode raised {exc.code}") from exc
    return findings


def _acks(data: bytes, kind: str = "999", numbers: MemoryControlNumbers | None = None,
          key: str = "ack:1") -> list[Acknowledgment]:
    return acknowledgments(read_envelopes(io.BytesIO(data)), _findings(data), kind,
                           numbers=numbers or MemoryControlNumbers(), destination="pbm",
                           key=key, now=NOW)


def _segments(text: str) -> list[list[str]]:
    return split_segments(text)[0]


def _check_valid(pyx12: Tr3Validator, answers: list[Acknowledgment]) -> None:
    for answer in answers:
        assert pyx12.validate(io.StringIO(answer.text)) == [], answer.text


def _counts_agree(text: str) -> None:
    """Per ST*999: AK903 = the AK2/IK5s written, AK904 = the IK5 A or E."""
    segments = _segments(text)
    statuses: list[str] = []
    for segment in segments:
        if segment[0] == "ST":
            statuses = []
        elif segment[0] == "IK5":
            statuses.append(segment[1])
        elif segment[0] == "AK9":
            assert int(segment[3]) == len(statuses)
            assert int(segment[4]) == sum(s in ("A", "E") for s in statuses)
            if segment[1] == "R":
                assert "A" not in statuses and "E" not in statuses


def test_item7_one_999_per_file_for_every_interchange(pyx12: Tr3Validator) -> None:
    texts = [interchange(shape="multi-st", payees=1, claims=1, seed=n,
                         interchange_control_number=n).text for n in range(1, 201)]
    answers = _acks("".join(texts).encode("latin-1"))
    assert [a.kind for a in answers] == ["999"]
    segments = _segments(answers[0].text)
    assert sum(s[0] == "ST" for s in segments) == 200
    assert [s[0] for s in segments].count("ISA") == 1
    _counts_agree(answers[0].text)
    _check_valid(pyx12, [_acks("".join(texts[:3]).encode("latin-1"))[0]])


def test_item7_control_numbers_come_from_the_counter(tmp_path: Path) -> None:
    """Two files to one partner never share ISA13; the redone acknowledgment keeps its own."""
    data = interchange(shape="multi-st", payees=2, claims=2, seed=1).text.encode("latin-1")
    numbers = MemoryControlNumbers(first=20)
    first = _acks(data, numbers=numbers, key="ack:1")[0].text
    second = _acks(data, numbers=numbers, key="ack:2")[0].text
    again = _acks(data, numbers=numbers, key="ack:1")[0].text
    isa13 = [_segments(t)[0][13] for t in (first, second, again)]
    assert isa13 == ["000000020", "000000021", "000000020"]


def test_item7_truncated_file_gets_no_acceptance_and_agrees_with_validate(
    tmp_path: Path, pyx12: Tr3Validator, capsys: pytest.CaptureFixture[str],
) -> None:
    text = interchange(shape="multi-st", payees=2, claims=4, seed=1).text
    path = write(tmp_path / "cut.835", text[: text.rindex("SE*")])
    out = tmp_path / "cut.999"
    assert main(["validate", str(path), "--ack", "999", "--out", str(out)]) == 1
    ack = out.read_text()
    assert "AK9*A" not in ack and "IK5*A" not in ack
    assert "TA1*000000001*260105*1200*R*023" in ack  # premature end of file
    _counts_agree(ack)
    for chunk in ack.split("ISA*")[1:]:
        assert pyx12.validate(io.StringIO("ISA*" + chunk)) == []


def test_item7_rejected_group_rejects_its_sets_in_the_counts(pyx12: Tr3Validator) -> None:
    text = interchange(shape="multi-st", payees=3, claims=3, seed=2).text
    bad = re.sub(r"GE\*3\*", "GE*4*", text)  # GE01 wrong: the group is rejected
    answers = _acks(bad.encode("latin-1"))
    _counts_agree(answers[0].text)
    assert ["AK9", "R", "4", "3", "0", "5"] in _segments(answers[0].text)
    _check_valid(pyx12, answers)


def test_item7_isa_of_72_characters_gets_a_ta1(pyx12: Tr3Validator) -> None:
    text = interchange(shape="multi-st", payees=1, claims=2, seed=3).text
    short = text.replace("*          *", "**").replace("EXAMPLEPBM     ", "PBM12")
    short = short.replace("EXAMPLEPSAO    ", "EXAMPLEPSAO")
    assert len(short.split("~")[0]) + 1 == 72  # ISA02-08 unpadded, as seen in the wild
    answers = _acks(short.encode("latin-1"))
    assert [a.kind for a in answers] == ["999", "ta1"]
    assert _segments(answers[1].text)[1][4:] == ["R", "022"]
    assert "AK9*A" not in answers[0].text
    _check_valid(pyx12, answers)


def test_item7_gs01_hc_on_an_835_is_named_precisely(tmp_path: Path) -> None:
    text = interchange(shape="multi-st", payees=1, claims=2, seed=4).text
    findings = _findings(text.replace("GS*HP*", "GS*HC*").encode("latin-1"))
    (finding,) = [f for f in findings if f.code == "not-835"]
    assert "837 health care claims" in finding.message and "GS01=HP" in finding.message


def test_item7_gs_test_test_is_answered_by_a_valid_ta1(pyx12: Tr3Validator) -> None:
    text = interchange(shape="multi-st", payees=1, claims=2, seed=5).text
    gs = re.search(r"GS\*[^~]*~", text)
    assert gs is not None
    answers = _acks(text.replace(gs.group(0), "GS*TEST*TEST~").encode("latin-1"))
    assert [a.kind for a in answers] == ["ta1"]
    assert _segments(answers[0].text)[1][4:] == ["R", "024"]
    _check_valid(pyx12, answers)


def _non_ascii(text: str) -> dict[str, str]:
    se = re.search(r"SE\*(\d+)\*", text)
    ts3 = re.search(r"TS3\*[^*]*\*[^*]*\*[^*]*\*(\d+)", text)
    assert se and ts3
    return {
        "superscript-se01": text[: se.end(1) - 1] + "\u00b2" + text[se.end(1):],
        "superscript-ts304": text[: ts3.end(1) - 1] + "\u00b3" + text[ts3.end(1):],
        "micro-isa09": text[:70] + "\u00b5" + text[71:],
        "0xba-repetition": text[:82] + "\u00ba" + text[83:],
    }


@pytest.mark.parametrize("case", ["superscript-se01", "superscript-ts304", "micro-isa09",
                                  "0xba-repetition"])
def test_item4_non_ascii_where_digits_belong_is_a_located_finding(
    case: str, tmp_path: Path, pyx12: Tr3Validator,
) -> None:
    text = interchange(shape="single-st", payees=2, claims=4, seed=1).text
    data = _non_ascii(text)[case].encode("latin-1")
    findings = _findings(data)  # collect mode: never ValueError / UnicodeError
    located = [f for f in findings if f.code in
               ("se-count", "bad-number", "isa-content", "isa-delimiters")]
    assert len(located) == 1
    where = located[0].location
    assert where.segment_number is not None and where.byte_offset is not None
    assert located[0].message and "ask the sender" in located[0].message
    if case == "micro-isa09":
        ta1 = _acks(data, "ta1")[0].text
        assert _segments(ta1)[1][4:] == ["R", "014"]  # invalid interchange date value
    for kind in ("999", "ta1"):
        answers = _acks(data, kind)
        assert answers and all(a.text.isascii() for a in answers)
        _check_valid(pyx12, answers)
    path = write(tmp_path / "in.835", data.decode("latin-1"))
    try:  # strict readers: a located InputError or success, nothing else
        list(read_835(io.BytesIO(data), file_name="in.835"))
        split_835(path, policy=ProviderPolicy(), writer=DirectoryPartWriter(tmp_path / "o"),
                  numbers=MemoryControlNumbers())
    except InputError as exc:
        assert exc.location.segment_number is not None
