"""Property (issue 10, Build 1): the splitter's fast byte path and the reader agree.

On any file the reader accepts — several interchanges, each with its own delimiters and line
breaks, a BOM or not, ST02/GS06 repeated — the splitter's chunk scanner sees the same
segments as the tokenizer (same numbers, offsets and ids at every boundary, every byte in
exactly one chunk) and the splitter yields the same transaction sets as the reader (same
ST..SE segment numbers and byte ranges, claim counts and CLP04 totals), whatever the block
sizes of either.
"""

from __future__ import annotations

import io
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from x12_compose import CRLF, ODD, interchange

from gateway.routing.policy import ProviderPolicy
from gateway.synth.x12_writer import Delimiters
from gateway.x12.read.reader import read_835
from gateway.x12.split.chunks import CONTINUED, scan
from gateway.x12.split.splitter import split_835
from gateway.x12.split.writers import NullPartWriter
from gateway.x12.syntax.delimiters import isa_start
from gateway.x12.syntax.tokenizer import iter_segments
from gateway.x12.write.control_numbers import MemoryControlNumbers
from gateway.x12.write.envelope import read_isa

DELIMITERS = [Delimiters(), Delimiters(suffix="\r\n"), Delimiters(suffix=""), ODD, CRLF]

interchanges = st.lists(
    st.tuples(st.sampled_from(["multi-st", "single-st"]), st.integers(1, 3), st.integers(0, 8),
              st.integers(0, 1000), st.sampled_from(DELIMITERS)),
    min_size=1, max_size=3,
)


breaks = st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(["\n", "\r\n", "\r"])),
                  max_size=4)


def _compose(specs: list[tuple[str, int, int, int, Delimiters]], bom: bool,
             extra: list[tuple[int, str]]) -> bytes:
    """The interchanges in a row; ``extra`` line breaks go after some ``~`` terminators (what
    senders do for readability, in every flavour), where the reader reads past them."""
    texts = [interchange(shape=shape, payees=payees, claims=claims, seed=seed,
                         delimiters=delimiters, interchange_control_number=n + 1).text
             for n, (shape, payees, claims, seed, delimiters) in enumerate(specs)]
    text = "".join(texts)
    tildes = [i for i, c in enumerate(text) if c == "~"]
    inserts = sorted(((tildes[p % len(tildes)] + 1, b) for p, b in extra if tildes), reverse=True)
    for at, line_break in inserts:  # from the end, so earlier offsets stay right
        text = text[:at] + line_break + text[at:]
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("latin-1")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=interchanges, bom=st.booleans(), extra=breaks,
       scan_block=st.sampled_from([7, 150, 4096, 1 << 20]),
       token_block=st.sampled_from([5, 333, 1 << 20]))
def test_splitter_scanner_and_reader_see_the_same_segments_and_sets(
    specs: list[tuple[str, int, int, int, Delimiters]], bom: bool,
    extra: list[tuple[int, str]], scan_block: int, token_block: int,
) -> None:
    data = _compose(specs, bom, extra)
    segments = {offset: (number, elements[0]) for number, offset, elements, _, _ in
                iter_segments(io.BytesIO(data), findings=[], block_size=token_block)}
    start = isa_start(data[:256])
    chunks = list(scan(io.BytesIO(data), read_isa(data[start:]).delimiters, scan_block,
                       start_offset=start))
    assert b"".join(c.data for c in chunks) == data[start:]
    for chunk in chunks:
        number, seg_id = segments[chunk.offset]
        assert number == chunk.first_segment
        assert seg_id == ("CLP" if chunk.kind == CONTINUED else chunk.kind.decode())
    assert sum(c.segments for c in chunks) == len(segments)

    read = list(read_835(io.BytesIO(data), file_name="in.835"))  # the reader accepts it
    with tempfile.TemporaryDirectory() as temp:
        path = Path(temp) / "in.835"
        path.write_bytes(data)
        result = split_835(path, policy=ProviderPolicy(), writer=NullPartWriter(),
                           numbers=MemoryControlNumbers(), block_size=scan_block)
    assert [(t.identity.st02 if t.identity else None, t.start_offset, t.claim_count,
             t.claims_paid) for t in result.transaction_sets] == [
        (r.control_number, r.source.start_offset if r.source else None, len(r.claims),
         r.total_claim_paid) for r in read]
    by_start = {r.source.start_offset: r.source for r in read if r.source}
    for part in result.parts:
        source = by_start[part.source.start_offset]
        assert (part.source.first_segment, part.source.last_segment, part.source.end_offset) \
            == (source.first_segment, source.last_segment, source.end_offset)
    assert sum((p.claims_paid for p in result.parts), Decimal(0)) == sum(
        (r.total_claim_paid for r in read), Decimal(0))
