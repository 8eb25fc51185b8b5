"""Property (issue 10, item 4 and Build 3): whatever bytes arrive, the X12 layer answers with
findings or a located InputError — never ValueError, UnicodeError or any other exception —
and its acknowledgments stay ASCII. Inputs: a valid 835 with up to four random byte edits
(any byte, 0x80-0xFF included, where digits, delimiters or envelopes belong)."""

from __future__ import annotations

import io
import tempfile
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from x12_compose import interchange

from gateway.errors import InputError
from gateway.routing.policy import ProviderPolicy
from gateway.x12.read.payment_keys import payment_keys, repeat_findings
from gateway.x12.read.reader import read_835
from gateway.x12.read.received import read_envelopes
from gateway.x12.split.splitter import split_835
from gateway.x12.split.writers import NullPartWriter
from gateway.x12.syntax.findings import Finding
from gateway.x12.write.ack import acknowledgments
from gateway.x12.write.control_numbers import MemoryControlNumbers

BASE = interchange(shape="multi-st", payees=2, claims=3, seed=1).text.encode("latin-1")
edits = st.lists(st.tuples(st.integers(0, len(BASE)), st.integers(0, 3), st.binary(max_size=3)),
                 max_size=4)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=edits)
def test_any_edit_ends_in_findings_or_a_located_input_error(
    edits: list[tuple[int, int, bytes]],
) -> None:
    data = bytearray(BASE)
    for at, cut, new in edits:
        data[at : at + cut] = new
    raw = bytes(data)
    findings: list[Finding] = []
    try:
        for _ in read_835(io.BytesIO(raw), file_name="in.835", findings=findings):
            pass
    except InputError as exc:
        assert exc.location.file == "in.835"
    findings += repeat_findings(payment_keys(io.BytesIO(raw), file="f"), "in.835")
    assert all(f.location.segment_number is not None or f.location.byte_offset is not None
               for f in findings if f.fatal)
    interchanges = read_envelopes(io.BytesIO(raw))
    for kind in ("999", "ta1"):
        for answer in acknowledgments(interchanges, findings, kind,
                                      numbers=MemoryControlNumbers(), destination="pbm",
                                      key="ack:1", now=datetime(2026, 1, 6)):
            assert answer.text.isascii()
    with tempfile.TemporaryDirectory() as temp:
        path = Path(temp) / "in.835"
        path.write_bytes(raw)
        try:
            split_835(path, policy=ProviderPolicy(), writer=NullPartWriter(),
                      numbers=MemoryControlNumbers())
        except InputError as exc:
            assert exc.location.file == str(path)
