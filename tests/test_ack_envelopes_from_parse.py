"""The acknowledgment's envelopes come from the parse's one read (issue 13, bench item 3):
what the parse stage collects through ``iter_835``'s tap — every ISA/GS/ST with its segment
range, closed where the file ends — is exactly what ``received_interchanges`` reads from every
segment of the file, and the 999s and TA1s written from either are the same bytes; the
acknowledger's own read (after a restart) gives the same findings and envelopes in one pass.
Over the issue-10 acknowledgment cases, the one-pass fixtures, generated files of every shape
(poisoned ones too), several interchanges with their own delimiters, repeated ST02 across
groups, envelope errors of every kind, files cut at every few bytes, and the shared corpus.
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from x12_compose import CRLF, ODD, interchange, join, segments, two_groups
from x12_corpus import corpus_files

from gateway.daemon.acknowledge import answerable, read_findings
from gateway.daemon.parse import parse_file
from gateway.detect import HEAD_SIZE, detect_format
from gateway.errors import InputError
from gateway.store.models import FileStatus, ReceivedFile
from gateway.synth.x12_shapes import generate, make_pool
from gateway.x12.read.received import ReceivedInterchange, received_interchanges
from gateway.x12.syntax.tokenizer import iter_segments
from gateway.x12.write.ack import acknowledgments
from gateway.x12.write.control_numbers import MemoryControlNumbers

NOW = datetime(2026, 1, 6, 8, 30)
POOL = make_pool(3)
BOM = b"\xef\xbb\xbf"


def _received(data: bytes) -> ReceivedFile:
    return ReceivedFile(1, "pbm", "in.835", "in.835", len(data), None,
                        hashlib.sha256(data).hexdigest(), datetime.now(UTC), FileStatus.RECEIVED)


def _same(data: bytes) -> list[ReceivedInterchange]:
    """Assert the parse's envelopes equal a read of every segment, and the answers agree.
    A file that is not X12 is refused by the parse and never acknowledged (nothing to read)."""
    if detect_format(data[:HEAD_SIZE]) != "x12":
        with pytest.raises(InputError):
            parse_file(io.BytesIO(data), _received(data))
        return []
    parsed = parse_file(io.BytesIO(data), _received(data))
    alone = received_interchanges(s[2] for s in iter_segments(io.BytesIO(data), findings=[]))
    assert parsed.envelopes is not None
    assert list(parsed.envelopes) == alone
    # the acknowledger's own read, after a restart: the same findings and envelopes
    assert read_findings(io.BytesIO(data), "in.835") == (parsed.findings, alone)
    for kind in ("999", "ta1"):
        texts = [[a.text for a in acknowledgments(
            [i for i in envelopes if answerable(i, kind)], parsed.findings, kind,
            numbers=MemoryControlNumbers(), destination="pbm", key="ack:1", now=NOW)]
            for envelopes in (parsed.envelopes, alone)]
        assert texts[0] == texts[1]
    return alone


def _text(**spec: object) -> str:
    return interchange(**spec).text


def _issue10_cases() -> dict[str, str]:
    """The inputs of tests/test_issue10_x12_acks.py."""
    multi = _text(shape="multi-st", payees=3, claims=3, seed=2)
    one = _text(shape="multi-st", payees=1, claims=2, seed=3)
    short = one.replace("*          *", "**").replace("EXAMPLEPBM     ", "PBM12")
    gs = re.search(r"GS\*[^~]*~", one)
    assert gs is not None
    single = _text(shape="single-st", payees=2, claims=4, seed=1)
    se = re.search(r"SE\*(\d+)\*", single)
    ts3 = re.search(r"TS3\*[^*]*\*[^*]*\*[^*]*\*(\d+)", single)
    assert se and ts3
    cut = _text(shape="multi-st", payees=2, claims=4, seed=1)
    return {
        "200-interchanges": "".join(_text(shape="multi-st", payees=1, claims=1, seed=n,
                                          interchange_control_number=n) for n in range(1, 201)),
        "counter": _text(shape="multi-st", payees=2, claims=2, seed=1),
        "truncated": cut[: cut.rindex("SE*")],
        "ge-count": re.sub(r"GE\*3\*", "GE*4*", multi),
        "isa-72": short.replace("EXAMPLEPSAO    ", "EXAMPLEPSAO"),
        "gs-hc": one.replace("GS*HP*", "GS*HC*"),
        "gs-test": one.replace(gs.group(0), "GS*TEST*TEST~"),
        "superscript-se01": single[: se.end(1) - 1] + "\u00b2" + single[se.end(1):],
        "superscript-ts304": single[: ts3.end(1) - 1] + "\u00b3" + single[ts3.end(1):],
        "micro-isa09": single[:70] + "\u00b5" + single[71:],
        "0xba-repetition": single[:82] + "\u00ba" + single[83:],
    }


@pytest.mark.parametrize("case", sorted(_issue10_cases()))
def test_issue10_acknowledgment_cases(case: str) -> None:
    assert _same(_issue10_cases()[case].encode("latin-1"))


@pytest.mark.parametrize("seed", range(40))
def test_generated_shapes_clean_and_poisoned(seed: int) -> None:
    for poison in (0.0, 1.0):  # the one-pass fixtures, then each of them broken somehow
        _same(generate(seed, POOL, poison_rate=poison, duplicate_rate=0.5).data)


def test_spec_shapes_and_delimiters() -> None:
    for shape in ("multi-st", "single-st"):
        for delimiters in (None, ODD, CRLF):
            spec = {"delimiters": delimiters} if delimiters else {}
            assert _same(_text(shape=shape, payees=4, claims=12, seed=7, **spec).encode())


def test_several_interchanges_with_their_own_delimiters() -> None:
    texts = [_text(payees=2, claims=3, seed=1, interchange_control_number=1),
             _text(payees=1, claims=2, seed=2, interchange_control_number=2, delimiters=ODD),
             _text(payees=3, claims=4, seed=3, interchange_control_number=3, delimiters=CRLF),
             _text(shape="single-st", payees=2, claims=2, seed=4, interchange_control_number=4)]
    found = _same("".join(texts).encode())
    assert [i.control_number for i in found] == ["000000001", "000000002", "000000003",
                                                 "000000004"]
    assert _same(BOM + "\r\n".join(texts[1:]).encode() + b"\r\n")


def test_repeated_st02_across_groups() -> None:
    first = interchange(payees=3, claims=3, seed=5)
    found = _same(two_groups(first, interchange(payees=2, claims=2, seed=6)).encode())
    groups = found[0].groups
    assert [s.control_number for s in groups[0].sets][:2] == [
        s.control_number for s in groups[1].sets][:2]


def _broken() -> dict[str, str]:
    """One interchange with one envelope defect each (counts, control numbers, trailers)."""
    item = interchange(payees=3, claims=4, seed=8)
    base = item.text
    parts = segments(item)
    ids = [p.split("*")[0] for p in parts]

    def without(tag: str, which: int = 0) -> str:
        positions = [n for n, t in enumerate(ids) if t == tag]
        return join(item, [p for n, p in enumerate(parts) if n != positions[which]])

    def swap(tag: str, index: int, value: str) -> str:
        out = []
        for part in parts:
            fields = part.split("*")
            if fields[0] == tag:
                fields[index] = value
            out.append("*".join(fields))
        return join(item, out)

    st = parts[ids.index("ST")]
    return {
        "se-count": swap("SE", 1, "999"), "se-control": swap("SE", 2, "X1"),
        "ge-count": swap("GE", 1, "7"), "ge-control": swap("GE", 2, "55"),
        "ge-not-a-number": swap("GE", 1, "x"), "iea-count": swap("IEA", 1, "4"),
        "iea-control": swap("IEA", 2, "000000999"), "st02-repeated": swap("ST", 2, "0001"),
        "no-se": without("SE"), "no-middle-se": without("SE", 1), "no-ge": without("GE"),
        "no-iea": without("IEA"), "no-gs": without("GS"), "no-st": without("ST", 1),
        "no-ge-no-iea": join(item, [p for p, t in zip(parts, ids, strict=True)
                                    if t not in ("GE", "IEA")]),
        "st-outside-group": join(item, [*parts, st, "SE*2*0001"]),
        "after-iea": base + "GS*HP*A*B*20260105*1200*9*X*005010X221A1~",
        "ta1-between-groups": base.replace("GS*", "TA1*000000001*260105*1200*A*000~GS*", 1),
        "stray-between-sets": base.replace("SE*", "NTE*stray~SE*", 1).replace(
            "~ST*", "~REF*EV*1~ST*", 1),
        "997-set": base.replace("ST*835*", "ST*997*", 1),
        "empty-segment": base.replace("~N1*", "~~N1*", 1),
        "bad-id": base.replace("~N1*", "~n1*", 1),
        "cut-mid-segment": base[: base.rindex("CLP*") + 9],
        "trailing-blank-lines": base + "\r\n\r\n",
        "garbage-after": base + "hello world",
        "isa-only": base[:106],
        "isa-cut": base[:60],
        "not-x12": "hello, this is not X12 at all~",
        "gs-first": base[base.index("GS*"):],
        "empty": "",
    }


@pytest.mark.parametrize("case", sorted(_broken()))
def test_envelope_errors(case: str) -> None:
    _same(_broken()[case].encode("latin-1"))


def test_cut_every_few_bytes() -> None:
    """Wherever the file ends — inside a claim, after an SE, inside an ISA — the envelopes
    closed at the parse's last segment are the read's."""
    text = "".join([_text(payees=2, claims=2, seed=11, interchange_control_number=1),
                    _text(payees=1, claims=1, seed=12, interchange_control_number=2,
                          delimiters=ODD)]).encode()
    unclosed = 0
    for end in [*range(0, len(text), 13), len(text) - 1]:
        for found in _same(text[:end])[-1:]:
            cut = found.groups[-1] if found.groups else None
            if found.last_segment is not None and cut is not None and cut.sets:
                unclosed += cut.last_segment == found.last_segment and (
                    cut.sets[-1].last_segment is None)
    assert unclosed  # some cuts fell inside a set: its range ends at the file's end


def test_every_corpus_file(shared_corpus: Path) -> None:
    checked = 0
    for name in corpus_files(shared_corpus):
        data = (shared_corpus / "x12" / name).read_bytes()
        text = data.decode("latin-1")
        variants = [data, BOM + data]
        if text.startswith("ISA") and len(text) > 106 and "|" not in text:
            variants.append(data + text.replace(text[3], "|").encode("latin-1"))
        for variant in variants:
            checked += bool(_same(variant))
    assert checked >= 60
