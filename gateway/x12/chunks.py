"""Cutting an 835 into the pieces a splitter moves around, without tokenizing every segment.

A splitter does not need to look inside most segments: a claim (CLP up to the next claim) goes
to one pharmacy as a whole, and only a handful of segments decide anything (ST, SE, LX/TS3,
CLP, NM1*82, PLB, the envelope). So instead of building an object per segment, the scanner
finds *boundaries* — a segment terminator, optional line break, then one of those segment ids
and the element separator — with one compiled regular expression over 1 MiB blocks, and yields
each chunk (boundary to next boundary) with its file offset. A claim is one chunk; the Python
work per file is per claim, not per segment, which is what lets a split run at the speed of a
plain byte scan. Segment numbers are kept by counting terminators (``bytes.count``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from gateway.x12.envelope import Delimiters

BLOCK_SIZE = 1 << 20
BOUNDARY_IDS = (b"ISA", b"IEA", b"GS", b"GE", b"ST", b"SE", b"LX", b"CLP", b"PLB")


@dataclass(frozen=True)
class Chunk:
    """Segments from one boundary segment up to (not including) the next one.

    ``kind`` is the id of the first segment; ``data`` the raw bytes, terminators and line breaks
    included; ``offset`` the file offset of ``data[0]``; ``first_segment`` the 1-based number of
    the first segment in the file; ``segments`` how many segments the chunk holds.
    """

    kind: bytes
    data: bytes
    offset: int
    first_segment: int
    segments: int
    terminator: bytes = b"~"

    @property
    def end(self) -> int:
        return self.offset + len(self.data)

    def first(self) -> bytes:
        """The first segment's content, without terminator."""
        return self.data.split(self.terminator, 1)[0]


def boundary_pattern(delimiters: Delimiters) -> re.Pattern[bytes]:
    """Terminator, optional CR/LF, then a boundary id followed by the element separator."""
    ids = b"|".join(BOUNDARY_IDS)
    return re.compile(
        re.escape(delimiters.segment)
        + rb"[\r\n]*(?=(?:"
        + ids
        + rb")"
        + re.escape(delimiters.element)
        + rb")"
    )


def scan(handle: BinaryIO, delimiters: Delimiters, block_size: int = BLOCK_SIZE) -> Iterator[Chunk]:
    """Yield every chunk of the stream in order. Memory: one block plus the longest chunk."""
    pattern = boundary_pattern(delimiters)
    terminator = delimiters.segment
    element = delimiters.element
    pending = b""  # bytes from the last boundary seen, not yet yielded
    offset = 0  # file offset of pending[0]
    segment_number = 1
    while True:
        block = handle.read(block_size)
        data = pending + block if pending else block
        if not data:
            return
        # A boundary cut by the previous block end starts at pending's last terminator at the
        # earliest: everything before it was already searched.
        search_from = max(pending.rfind(terminator), 0) if pending else 0
        start = 0
        for match in pattern.finditer(data, search_from):
            cut = match.end()
            if cut <= start:
                continue
            piece = data[start:cut]
            count = piece.count(terminator)
            yield Chunk(_kind(piece, element), piece, offset + start, segment_number, count,
                        terminator)
            segment_number += count
            start = cut
        pending = data[start:]
        offset += start
        if not block:
            if pending.strip(b"\r\n"):
                count = pending.count(terminator)
                yield Chunk(_kind(pending, element), pending, offset, segment_number, count,
                            terminator)
            return


def _kind(piece: bytes, element: bytes) -> bytes:
    return piece[: piece.find(element)]
