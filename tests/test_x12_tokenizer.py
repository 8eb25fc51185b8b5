"""The tokenizer: delimiters from the ISA, exact raw text, offsets, defects, any input."""

from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import GatewayError, InputError
from gateway.x12.syntax.delimiters import read_isa
from gateway.x12.syntax.findings import Finding
from gateway.x12.syntax.tokenizer import iter_segments, segment_bytes, segment_text


def isa(element="*", repetition="^", component=":", terminator="~", version="00501"):
    fields = [
        "ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SENDER".ljust(15), "ZZ",
        "RECEIVER".ljust(15), "260105", "1200", repetition, version, "000000001", "0", "P",
        component,
    ]  # fmt: skip
    text = element.join(fields) + terminator
    assert len(text) == 106
    return text


def tokens(data: bytes, **kw):
    return list(iter_segments(io.BytesIO(data), **kw))


def test_delimiters_come_from_the_isa():
    delimiters, length = read_isa(isa("|", "^", ">", "!") + "\r\nGS|")
    assert (delimiters.element, delimiters.component, delimiters.terminator) == ("|", ">", "!")
    assert delimiters.repetition == "^" and delimiters.suffix == "\r\n" and length == 105
    old, _ = read_isa(isa(repetition="U", version="00401") + "GS*")
    assert old.repetition is None and old.suffix == ""


def test_segments_carry_number_offset_and_exact_text():
    data = (isa(terminator="~") + "\r\nGS*HP*A~\r\nGE*0*1~\r\nIEA*1*000000001~\r\n").encode()
    segments = tokens(data)
    assert [s[2][0] for s in segments] == ["ISA", "GS", "GE", "IEA"]
    assert [s[0] for s in segments] == [1, 2, 3, 4]
    assert segments[1][1] == 108 and segments[1][2] == ["GS", "HP", "A"]
    assert segments[1][4] == "~\r\n"
    for segment in segments:
        assert data[segment[1] :].startswith(segment_bytes(segment))
    assert b"".join(map(segment_bytes, segments)) == data


def test_newline_can_be_the_terminator():
    data = (isa(terminator="\n") + "GS*HP\nGE*0*1\nIEA*1*000000001\n").encode()
    assert [s[2][0] for s in tokens(data)] == ["ISA", "GS", "GE", "IEA"]


def test_blank_lines_and_mixed_line_breaks_stay_in_the_segment_end():
    data = (isa() + "\nGS*HP~\n\nGE*0*1~IEA*1*000000001~\r\n\r\n").encode()
    segments = tokens(data, block_size=5)
    assert [s[4] for s in segments] == ["~\n", "~\n\n", "~", "~\r\n\r\n"]
    assert b"".join(map(segment_bytes, segments)) == data


def test_byte_order_mark_is_tolerated_and_reported():
    findings: list[Finding] = []
    data = b"\xef\xbb\xbf\r\n" + (isa() + "IEA*0*000000001~").encode()
    segments = tokens(data, findings=findings)
    assert segments[0][1] == 5 and segments[0][2][0] == "ISA"
    assert [(f.code, f.fatal) for f in findings] == [("leading-bytes", False)]


def test_interchanges_with_different_delimiters_in_one_file():
    first = isa() + "GS*HP~GE*0*1~IEA*1*000000001~\n"
    second = isa("|", "^", ">", "!") + "GS|HP!GE|0|1!IEA|1|000000001!"
    data = (first + second).encode()
    segments = tokens(data, findings=[], block_size=64)
    assert [s[2][0] for s in segments] == ["ISA", "GS", "GE", "IEA"] * 2
    assert segments[5][2] == ["GS", "HP"] and segments[5][3] == "|"
    assert b"".join(map(segment_bytes, segments)) == data


@pytest.mark.parametrize(
    ("text", "code", "number"),
    [
        (isa() + "GS*HP~~GE*0*1~", "empty-segment", 3),
        (isa() + "GS*HP~CAS_CO*45*50~", "bad-segment-id", 3),
        (isa() + "GS*HP~GE*0", "truncated", 3),
        ("PK\x03\x04 not x12", "not-x12", 1),
        ("ST*835*0001~BPR*I~", "missing-isa", 1),
        (isa()[:-1], "isa-terminator", 1),
        (isa().replace("SENDER         ", "SENDER") + "GS*HP~", "isa-length", 1),
    ],
)
def test_syntax_defects_raise_with_code_and_location(text, code, number):
    with pytest.raises(InputError) as caught:
        tokens(text.encode("latin-1"))
    assert caught.value.code == code
    assert caught.value.location.segment_number == number
    assert caught.value.location.byte_offset is not None


def test_collect_mode_keeps_every_byte_after_a_defect():
    data = (isa() + "GS*HP~~GE*0*1~IEA*1*000000001~").encode()
    findings: list[Finding] = []
    segments = tokens(data, findings=findings)
    assert [f.code for f in findings] == ["empty-segment"]
    assert [s[2][0] for s in segments] == ["ISA", "GS", "", "GE", "IEA"]
    assert b"".join(map(segment_bytes, segments)) == data


# -- properties -------------------------------------------------------------------------------

PUNCTUATION = "*|^~:>!&+"
safe_text = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .-/", max_size=8)


@st.composite
def interchanges(draw):
    element, repetition, component, terminator = draw(
        st.lists(st.sampled_from(PUNCTUATION), min_size=4, max_size=4, unique=True)
    )
    suffix = draw(st.sampled_from(["", "\n", "\r\n"]))
    segment_ids = st.from_regex(r"[A-Z][A-Z0-9]{1,2}", fullmatch=True).filter(
        lambda s: s != "ISA"
    )
    segments = draw(
        st.lists(
            st.tuples(segment_ids, st.lists(safe_text, max_size=6)), min_size=1, max_size=30
        )
    )
    text = isa(element, repetition, component, terminator) + suffix
    for seg_id, elements in segments:
        text += element.join([seg_id, *elements]) + terminator + suffix
    return text, [[seg_id, *elements] for seg_id, elements in segments]


@settings(max_examples=300, deadline=None)
@given(interchanges(), st.sampled_from([3, 17, 1 << 20]))
def test_any_delimiters_round_trip(case, block_size):
    text, expected = case
    segments = tokens(text.encode("latin-1"), block_size=block_size)
    assert "".join(map(segment_text, segments)) == text
    assert [s[2] for s in segments[1:]] == expected
    assert [s[0] for s in segments] == list(range(1, len(segments) + 1))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.sampled_from([4, 1 << 20]))
def test_random_bytes_raise_only_gateway_errors(data, block_size):
    findings: list[Finding] = []
    segments = tokens(data, findings=findings, block_size=block_size)
    if segments:
        assert b"".join(map(segment_bytes, segments)) == data[segments[0][1] :]
    with contextlib.suppress(GatewayError):
        tokens(data, block_size=block_size)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="*~:\n\r ISAGE0123456789^|", max_size=300))
def test_isa_like_garbage_raises_only_gateway_errors(text):
    with contextlib.suppress(GatewayError):
        tokens(("ISA" + text).encode("latin-1"))
    tokens(("ISA" + text).encode("latin-1"), findings=[])


def test_format_is_detected_from_content_not_name():
    from gateway.detect import detect_format

    assert detect_format(b"\xef\xbb\xbf\r\nISA*00*") == "x12"
    assert detect_format(b"ISA|00|") == "x12"
    assert detect_format(b"ST*835*0001~") == "x12"  # the reader then says: ISA missing
    assert detect_format(b"PK\x03\x04") is None
    assert detect_format(b"ISAAC NEWTON") is None
