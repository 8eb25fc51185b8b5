"""The compiled TR3 validator: where findings point, what pyx12 got wrong, the fast path."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from tr3_mutator import base_files, mutate

from gateway.synth.x12_835 import Spec, write_835
from gateway.x12.syntax.findings import Level
from gateway.x12.syntax.tokenizer import iter_segments
from gateway.x12.tr3 import Tr3Validator
from gateway.x12.tr3.fast_match import Delims


@pytest.fixture(scope="module")
def validator() -> Tr3Validator:
    return Tr3Validator()


def generated(**kwargs) -> str:
    out = io.StringIO()
    write_835(out, Spec(**kwargs))
    return out.getvalue()


def run(validator: Tr3Validator, text: str):
    return validator.validate(io.BytesIO(text.encode("latin-1")), file_name="in.835")


def replace_in(text: str, prefix: str, index: int, value: str, nth: int = 0) -> str:
    """``text`` with element ``index`` of the ``nth`` segment starting with ``prefix`` set."""
    lines = text.split("\n")
    at = [i for i, line in enumerate(lines) if line.startswith(prefix)][nth]
    parts = lines[at].rstrip("~").split("*")
    parts[index] = value
    lines[at] = "*".join(parts) + "~"
    return "\n".join(lines)


def test_an_element_finding_names_loop_position_element_and_byte_offset(validator):
    text = replace_in(generated(payees=2, claims=4, seed=4), "CLP*", 6, "CI", nth=2)
    (finding,) = run(validator, text)
    segments = list(iter_segments(io.BytesIO(text.encode()), findings=[]))
    number = finding.location.segment_number
    st = max(s[0] for s in segments if s[2][0] == "ST" and s[0] < number)
    assert (finding.code, finding.level, finding.fatal, finding.x12_code) == (
        "tr3-invalid-code", Level.SEGMENT, True, "7")
    assert finding.location.element == "CLP06" and finding.element_position == 6
    assert finding.loop_id == "2100" and finding.segment_position == number - st + 1
    assert finding.location.byte_offset == segments[number - 1][1]
    assert finding.transaction_set == segments[st - 1][2][2] and finding.group_control_number == "1"
    assert "'CI'" in finding.message  # a code may be shown ...


def test_messages_never_carry_names_or_ids(validator):
    """... but a name or member id never is: only its length."""
    text = generated(payees=1, claims=2, seed=4)
    text = replace_in(text, "NM1*QC", 3, "SAMPLEPATIENTNAME" * 5)
    text = replace_in(text, "NM1*QC", 9, "ZZ123456789", nth=1)
    text = text.replace("NM1*QC*1*", "NM1*QC*1**", 1)
    findings = run(validator, text)
    assert findings
    for finding in findings:
        assert "SAMPLEPATIENT" not in finding.message and "123456789" not in finding.message


def test_a_syntax_rule_names_the_element_and_its_trigger(validator):
    text = generated(payees=1, claims=1, seed=2, compound_rate=0)
    at = text.index("CAS*", text.index("SVC*"))
    text = text[:at] + "CAS*CO*45*1.00**96~\n" + text[at:]  # CAS05 without CAS06 or CAS07
    findings = [f for f in run(validator, text) if f.code == "tr3-syntax-rule"]
    (finding,) = findings
    assert (finding.element_position, finding.trigger_element, finding.x12_code) == (6, 5, "2")
    assert finding.loop_id == "2110"


def test_walk_findings_missing_repeated_and_unexpected(validator):
    text = generated(payees=1, claims=2, seed=3, compound_rate=0, reversal_rate=0,
                     denial_rate=0)
    lines = text.split("\n")
    nm1 = next(i for i, line in enumerate(lines) if line.startswith("NM1*QC"))
    del lines[nm1]  # the required patient name of the first claim
    bpr = next(i for i, line in enumerate(lines) if line.startswith("BPR"))
    lines.insert(bpr + 1, lines[bpr])  # a second BPR: the header (pyx12's wrapper) again
    svc = next(i for i, line in enumerate(lines) if line.startswith("SVC"))
    lines.insert(svc + 1, "TS3*1234567*99*20261231*1*10~")  # a 2000 header inside a line
    findings = run(validator, "\n".join(lines))
    got = {(f.code, f.location.segment_id, f.loop_id) for f in findings}
    assert got == {("tr3-missing-segment", "NM1", "2100"), ("tr3-loop-repeats", "BPR", None),
                   ("tr3-unexpected-segment", "TS3", "2110")}


def test_pyx12s_silent_stop_at_an_empty_segment_is_not_ours(validator):
    text = generated(payees=2, claims=4).replace("~\nDTM*405", "~\n~\nDTM*405", 1)
    text = replace_in(text, "CLP*", 6, "CI", nth=3)  # far after the empty segment
    codes = [f.code for f in run(validator, text)]
    assert "empty-segment" in codes and "tr3-invalid-code" in codes


def test_an_unknown_guide_rejects_its_group_and_the_next_group_is_validated(validator):
    first = generated(payees=1, claims=2).replace("005010X221A1", "005010X299", 1)
    second = replace_in(generated(payees=1, claims=2), "CLP*", 6, "CI")
    second = second.replace("*000000001*", "*000000002*", 1).replace(
        "IEA*1*000000001", "IEA*1*000000002")
    findings = run(validator, first + second)
    assert [(f.code, f.level, f.x12_code) for f in findings] == [
        ("tr3-unsupported-version", Level.GROUP, "2"), ("tr3-invalid-code", Level.SEGMENT, "7")]


def test_too_many_findings_are_counted_not_lost(tmp_path):
    text = generated(payees=1, claims=30, seed=1).replace("*MC*", "*CI*")
    findings = Tr3Validator(limit=5).validate(io.BytesIO(text.encode()))
    assert len(findings) == 6 and findings[-1].code == "tr3-too-many-findings"
    assert not findings[-1].fatal and "more TR3 finding" in findings[-1].message


def test_the_fast_path_accepts_nothing_the_exact_checks_reject(validator):
    """Soundness of every compiled pattern, on the segments of 300 mutated files against every
    node of their id: a segment a pattern accepts has no element defect at all."""
    engine = validator.engine
    guide = engine.maps.guide("835.5010.X221.A1.xml")
    by_id: dict[str, list] = {}
    for node in guide.nodes:
        if node.is_segment:
            by_id.setdefault(node.id, []).append(node)
    bases = base_files(11)
    accepted = 0
    for seed in range(300):
        data = mutate(bases[seed % len(bases)], seed)
        segments = list(iter_segments(io.BytesIO(data), findings=[]))
        delims = Delims(segments[0][3], segments[0][2][16][:1])
        on = date(2026, 1, 5)
        patterns = engine.automaton(delims, on).fast_for
        for _, _, elements, separator, _ in segments:
            text = separator.join(elements)
            for node in by_id.get(elements[0], ()):
                if patterns(node)[0](text) is None:
                    continue
                accepted += 1
                errors = engine.element_errors(node, elements, delims.component, on)
                assert not errors, (node.path, text, errors)
                assert elements[-1] != "" and re.search(r"[^*]", text[len(elements[0]):])
    assert accepted > 10_000


def test_a_segment_after_a_claims_last_free_text_is_not_read_as_part_of_it(validator):
    """A run (many claims in one match) once let a free-text value reach across the
    terminator: ``NM1*QC*...*MI*ZZ1~XYZ~`` matched as one NM1 whose NM109 is ``ZZ1~XYZ``,
    and the stray segment was never reported."""
    text = generated(payees=1, claims=12, seed=5)
    lines = text.split("\n")
    patients = [i for i, line in enumerate(lines) if line.startswith("NM1*QC")]
    lines.insert(patients[6] + 1, "XYZ~")  # in the middle of the set's claims
    findings = run(validator, "\n".join(lines))
    assert [(f.code, f.location.segment_id, f.loop_id) for f in findings] == [
        ("tr3-empty-segment", "XYZ", "2100"), ("tr3-unexpected-segment", "XYZ", "2100")]


def test_runs_find_exactly_what_segment_by_segment_finds(tmp_path, monkeypatch):
    """Runs match the file's text a window at a time, from the bytes the scanner read: on a
    file far larger than the kept text and the scanner's blocks, with defects planted in the
    middle of runs and at their edges, the findings are those of the path without runs."""
    text = generated(payees=3, claims=12_000, seed=7)
    lines = text.split("\n")
    claims = [i for i, line in enumerate(lines) if line.startswith("CLP*")]
    for n, at in reversed(list(enumerate(claims[500::1700]))):  # from the end: inserts move
        if n % 3 == 0:
            lines[at + 1] = lines[at + 1].replace("*QC*", "*QX*")  # bad qualifier
        elif n % 3 == 1:
            lines.insert(at, lines[at + 1])  # a segment out of place
        else:
            lines[at] = lines[at].replace("*1*", "*77*", 1)  # bad claim status
    path = tmp_path / "big.835"
    path.write_text("\n".join(lines), encoding="latin-1")
    with_runs = Tr3Validator().validate(path)
    monkeypatch.setattr("gateway.x12.tr3.raw.KEEP", 1 << 20)  # runs cut at odd places
    monkeypatch.setattr("gateway.x12.tr3.raw.WINDOW", 1000)
    small_windows = Tr3Validator().validate(path)
    monkeypatch.setattr("gateway.x12.tr3.engine.run_pattern", lambda *args: None)
    without = Tr3Validator().validate(path)
    assert len(without) >= 10
    assert with_runs == small_windows == without
