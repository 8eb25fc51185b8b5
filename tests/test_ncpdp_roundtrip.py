"""Byte-identical round trips on 10,000 generated transmissions, bare and inside a batch.

The strategy builds requests and responses for B1/B2/B3/E1 (and now and then another code)
with repeating fields (reject codes with occurrences, DUR counters, COB payers with nested
amounts, compound ingredients), unknown segments and fields, empty values, odd header
lengths and STX/ETX framing. Each example is small so 10,000 of them run in seconds.
"""

from __future__ import annotations

import io
import random

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gateway.ncpdp import batch, parse_file, to_json, transmission
from gateway.ncpdp.framing import ETX, STX
from gateway.ncpdp.writer import write_batch

ALPHABET = "0123456789ABCDEFJ{} >.-"
REPEATS = {
    "21": [("AN", "R"), ("FA", "2"), ("FB", "70"), ("4F", "1"), ("FB", "88"), ("4F", "2")],
    "08": [("7E", "1"), ("E4", "DD"), ("E5", "M0"), ("7E", "2"), ("E4", "ER"), ("E6", "1B")],
    "05": [
        ("4C", "2"),
        ("5C", "01"),
        ("HB", "2"),
        ("HC", "07"),
        ("DV", "10{"),
        ("HC", "08"),
        ("DV", "5}"),
        ("5C", "02"),
        ("5E", "1"),
        ("6E", "70"),
    ],
    "10": [("EC", "2"), ("RE", "03"), ("TE", "999"), ("ED", "1000"), ("RE", "03"), ("TE", "998")],
}
REQUEST_SEGMENTS = ["01", "04", "07", "11", "02", "03", "05", "08", "10", "13", "XX", "99"]
RESPONSE_SEGMENTS = ["20", "21", "22", "23", "24", "25", "28", "XX"]
FIELD_IDS = ["D2", "E7", "D9", "DU", "F9", "F5", "C2", "CA", "AN", "FB", "4F", "ZZ", "9Q", "7E"]


def _segment(rng: random.Random, codes: list[str]) -> transmission.Segment:
    code = rng.choice(codes)
    fields = list(REPEATS.get(code, [])) if rng.random() < 0.5 else []
    for _ in range(rng.randrange(5)):
        value = "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(7)))
        fields.append((rng.choice(FIELD_IDS), value))
    return transmission.Segment.build(code, fields)


def _transmission(kind: str, code: str, count: int, seed: int) -> transmission.Transmission:
    """Structure from hypothesis' choices, field content from a seeded Random (cheap)."""
    rng = random.Random(seed)
    codes = REQUEST_SEGMENTS if kind == "request" else RESPONSE_SEGMENTS
    if kind == "request":
        header = f"610066D0{code}PCN       {count}014563663       20070915SW        "
    else:
        header = f"D0{code}{count}{rng.choice('AR')}014563663       20070915"
    if rng.randrange(20) == 0:  # now and then a header of the wrong length
        header = header[: rng.randrange(len(header))]
    top = tuple(_segment(rng, codes) for _ in range(rng.randrange(3)))
    groups = tuple(
        transmission.Group(tuple(_segment(rng, codes) for _ in range(rng.randrange(4))))
        for _ in range(count)
    )
    return transmission.Transmission(kind, header, top, groups)


KINDS = st.sampled_from(["request", "response"])
CODES = st.sampled_from(["B1", "B2", "B3", "E1", "P1", "N1"])
COUNTS = st.integers(0, 4)
SEEDS = st.integers(0, 2**32)


@st.composite
def transmissions(draw: st.DrawFn) -> transmission.Transmission:
    """B1/B2/B3/E1 (and other) requests and responses; one flat draw keeps examples cheap."""
    return _transmission(draw(KINDS), draw(CODES), draw(COUNTS), draw(SEEDS))


@settings(
    max_examples=10_000,
    deadline=None,
    database=None,
    phases=[Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow],
)
@given(transmissions(), st.booleans(), st.sampled_from(["", "\n", "\r\n"]))
def test_round_trip_is_byte_identical(tx, framed, newline):
    wire = tx.wire()
    # bare (optionally STX/ETX framed) real-time transmission
    text = STX + wire + ETX if framed else wire
    again = transmission.parse(text)
    assert again.wire() == text
    assert again.segments == tx.segments and again.groups == tx.groups
    assert again.header == tx.header
    # inside a batch: header, this transmission as a G1 detail, trailer
    header = batch.BatchHeader("T", "SENDER", "42", "20260115", "1200", "T", "12", "RECEIVER")
    detail = batch.BatchDetail.of("REF0000001", tx)
    trailer = batch.BatchTrailer("42", "3", "")
    out = io.BytesIO()
    write_batch([header, detail, trailer], out)
    data = out.getvalue()
    if newline:
        data = data.replace(b"\x03", b"\x03" + newline.encode())
    items = list(batch.decode(r, c) for r, c in batch.iter_records(io.BytesIO(data)))
    rewritten = io.BytesIO()
    write_batch(items, rewritten)
    assert rewritten.getvalue() == data
    # the reader never crashes: findings and JSON exist for whatever was generated
    (document,) = parse_file(io.BytesIO(data))
    assert isinstance(document.findings, tuple)
    assert to_json(document)["transactions"] is not None
    if len(tx.header) == tx.header_length:
        assert document.transmission.wire() == wire
        assert document.transmission.kind == tx.kind
