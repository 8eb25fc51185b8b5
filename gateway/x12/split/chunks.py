"""Cutting an 835 into the pieces a splitter moves around, without tokenizing every segment.

A splitter does not need to look inside most segments: the claims of one LX group usually go
to one pharmacy as a whole, and only a handful of segments decide anything (the envelope,
ST/SE, LX/TS3, CLP04, NM1*82, PLB). So instead of building an object per segment, the scanner
finds *boundaries* — a segment terminator, optional line break, then ISA, IEA, GS, GE, ST, SE,
LX or PLB and the element separator — with one compiled regular expression over 1 MiB blocks,
and yields each chunk (boundary to next boundary) with its file offset. The claims of an LX
group ride in the LX chunk; a group longer than a block is cut at a claim start and continued
in ``CLP`` chunks, so a chunk is never much more than a block. Segment numbers are kept by
counting terminators (``bytes.count``). The Python work per file is per group, not per
segment, which is what lets a split run faster than a plain segment-by-segment scan.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO, NamedTuple

from gateway.x12.syntax.delimiters import ISA_LENGTH, Delimiters
from gateway.x12.write.envelope import read_isa

BLOCK_SIZE = 1 << 20
BOUNDARY_IDS = (b"ISA", b"IEA", b"GS", b"GE", b"ST", b"SE", b"LX", b"PLB")
CONTINUED = b"CLP"  # the kind of a chunk that continues a long group's claims


class Chunk(NamedTuple):
    """Segments from one boundary segment up to (not including) the next one.

    ``kind`` is the id of the first segment; ``data`` the raw bytes, terminators and line breaks
    included; ``offset`` the file offset of ``data[0]``; ``first_segment`` the 1-based number of
    the first segment in the file; ``segments`` how many segments the chunk holds. A named
    tuple, not a dataclass: one is made per claim, and this is the splitter's inner loop.
    """

    kind: bytes
    data: bytes
    offset: int
    first_segment: int
    segments: int
    terminator: bytes

    @property
    def end(self) -> int:
        return self.offset + len(self.data)

    def first(self) -> bytes:
        """The first segment's content, without terminator."""
        return self.data[: self.data.find(self.terminator)]


def boundary_pattern(delimiters: Delimiters) -> re.Pattern[bytes]:
    """Terminator, optional CR/LF, then (captured) a boundary id: ISA alone (a new
    interchange may declare another element separator), the others with the separator.

    The one-character class before the alternation is only there for speed: most segments
    start with a letter no boundary id starts with, and the class rejects them at once.
    """
    ids = b"|".join(i for i in BOUNDARY_IDS if i != b"ISA")
    initials = bytes(sorted({i[0] for i in BOUNDARY_IDS}))
    return re.compile(
        re.escape(delimiters.terminator_bytes)
        + rb"[\r\n]*(?=[" + initials + rb"])(?=(ISA)|("
        + ids
        + rb")"
        + re.escape(delimiters.element_bytes)
        + rb")"
    )


class _Scan:
    """The state of one pass: the delimiters of the current interchange, and where it is."""

    def __init__(self, delimiters: Delimiters, file: str | None) -> None:
        self.file = file
        self.delimiters = delimiters
        self.finditer = boundary_pattern(delimiters).finditer
        self.isa_pending = False  # an ISA starts pending and its delimiters are not read yet

    def next_interchange(self, data: bytes, at: int, offset: int, number: int) -> None:
        """Read the delimiters of the ISA at ``data[at:]``; switch to them when they differ."""
        self.isa_pending = False
        header = read_isa(data[at : at + ISA_LENGTH + 50], self.file, offset, number)
        new = header.delimiters
        if (new.element, new.terminator) != (self.delimiters.element, self.delimiters.terminator):
            self.finditer = boundary_pattern(new).finditer
        self.delimiters = new


def scan(handle: BinaryIO, delimiters: Delimiters, block_size: int = BLOCK_SIZE, *,
         start_offset: int = 0, file: str | None = None) -> Iterator[Chunk]:
    """Yield every chunk of the stream in order, from the first ISA at ``start_offset`` (a
    byte order mark or blank lines before it are not part of any chunk). ``delimiters`` are
    the first interchange's; every later ISA is read again, so each interchange is cut with
    its own. Memory: about two blocks plus one claim."""
    state = _Scan(delimiters, file)
    pending = b""  # bytes from the last boundary seen, not yet yielded
    kind = b"ISA"  # id of the segment pending starts with (a file starts with its ISA)
    offset = start_offset  # file offset of pending[0]
    segment_number = 1
    handle.seek(start_offset)
    while True:
        block = handle.read(block_size)
        data = pending + block if pending else block
        if not data:
            return
        terminator = state.delimiters.terminator_bytes
        # A boundary cut by the previous block end starts at pending's last terminator at the
        # earliest: everything before it was already searched (unless an ISA waited there).
        search_from = max(pending.rfind(terminator), 0) if pending else 0
        start = 0
        while True:
            if state.isa_pending:
                if block and len(data) - start < ISA_LENGTH + 50:
                    break  # the ISA is cut by the block end: read more first
                state.next_interchange(data, start, offset + start, segment_number)
                terminator, search_from = state.delimiters.terminator_bytes, start
            for match in state.finditer(data, search_from):
                cut = match.end()
                if cut <= start:
                    continue
                piece = data[start:cut]
                count = piece.count(terminator)
                yield Chunk(kind, piece, offset + start, segment_number, count, terminator)
                segment_number += count
                kind = match.group(match.lastindex or 1)
                start = cut
                if kind == b"ISA":
                    state.isa_pending = True
                    break
            if not state.isa_pending:
                break
        pending = data[start:]
        offset += start
        if not block:
            if pending.strip(b"\r\n"):
                count = pending.count(terminator)
                yield Chunk(kind, pending, offset, segment_number, count, terminator)
            return
        if len(pending) > block_size and kind in (b"LX", b"ST", CONTINUED):
            cut = _last_claim_start(pending, state.delimiters)
            if cut > 0:
                piece = pending[:cut]
                count = piece.count(terminator)
                yield Chunk(kind, piece, offset, segment_number, count, terminator)
                segment_number += count
                kind, pending, offset = CONTINUED, pending[cut:], offset + cut


def _last_claim_start(data: bytes, delimiters: Delimiters) -> int:
    """Offset of the last claim start in ``data`` (0: none after the first byte). The claim
    starting there may be incomplete — it continues in the next block — so the cut is made
    before it."""
    needle = b"CLP" + delimiters.element_bytes
    at = data.rfind(needle)
    while at > 0 and data[at - 1 : at] not in (delimiters.terminator_bytes, b"\r", b"\n"):
        at = data.rfind(needle, 0, at)
    return max(at, 0)
