"""Streaming X12 tokenizer: a binary stream in, segments (elements + exact raw text) out.

Why ``str`` and not ``bytes``: every byte is decoded as latin-1, which maps byte *n* to code
point *n*. That decoding is a plain copy, it cannot fail, it is exactly reversible
(``text.encode("latin-1")`` gives the original bytes back) and character offsets equal byte
offsets. Working in ``str`` then gives the canonical model its ``str`` identifiers for free,
while ``bytes`` would need a decode per element later. (X12's basic and extended character
sets are ASCII; a stray non-ASCII byte survives unchanged.)

Why it looks the way it does: a 100 MB central-pay file has ~3.85 M segments, so the budget is
well under a microsecond per segment in pure Python. The work is done by ``str.split`` on
whole 1 MiB blocks (C speed): a block is split on terminator+line break in one call, each
segment on the element separator in one call, offsets are running sums of lengths, and a
segment is a plain tuple. A block whose line breaks are not all the regular suffix (blank
lines, a mix of ``~`` and ``~`` LF, CR/LF inside data) takes a slower, exact path.

A segment is the tuple ``(number, offset, elements, separator, end)``:

* ``number``: position in the file, from 1; ``offset``: byte offset of its first byte;
* ``elements``: ``list[str]``, ``elements[0]`` is the segment id (callers must not mutate it);
* ``separator``: the element separator of its interchange;
* ``end``: the exact text that followed the last element: terminator plus any line breaks
  (``""`` for a last segment cut off by the end of the file).

``separator.join(elements) + end`` is the segment's exact text (see :func:`segment_text`), so
concatenating every segment gives the input back byte for byte. Bytes before the first ISA
(a UTF-8 byte order mark, blank lines) are reported, skipped and not part of any segment.

Each interchange may declare different delimiters; they are read again from every ISA.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import accumulate, chain, count, repeat
from operator import add
from typing import BinaryIO

from gateway.x12.syntax.blocks import plain_ids, split_exact
from gateway.x12.syntax.delimiters import (
    ISA_FIX,
    ISA_LOOKAHEAD,
    ISA_TA105,
    LINE_BREAKS,
    Delimiters,
    IsaError,
    isa_length_ok,
    isa_problems,
    isa_start,
    read_isa,
)
from gateway.x12.syntax.findings import Finding, Level
from gateway.x12.syntax.reporter import Reporter

Segment = tuple[int, int, list[str], str, str]
"""(number, offset, elements, separator, end) — see the module docstring."""

BLOCK_SIZE = 1 << 20
SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")


def iter_segments(
    stream: BinaryIO,
    *,
    file_name: str | None = None,
    findings: list[Finding] | None = None,
    reporter: Reporter | None = None,
    block_size: int = BLOCK_SIZE,
) -> Iterator[Segment]:
    """Yield every segment of ``stream`` in file order, with bounded memory.

    Strict mode (``findings is None``) raises ``InputError`` at the first syntax defect: not
    X12, a bad ISA, an empty segment (``~~``), an invalid segment id, a file cut off inside a
    segment. With a ``findings`` list the defect is recorded and the segment is still yielded
    (so nothing is lost and a copy stays byte-identical). Envelope structure (ISA/IEA, GS/GE,
    ST/SE pairing and counts) is checked one level up, in :mod:`gateway.x12.read.checks`.
    """
    reporter = reporter or Reporter(file_name, findings)
    return chain.from_iterable(_Tokenizer(stream, reporter, block_size).batches())


def segment_text(segment: Segment) -> str:
    """The exact original text of a segment, terminator and line break included."""
    return segment[3].join(segment[2]) + segment[4]


def segment_bytes(segment: Segment) -> bytes:
    """The exact original bytes of a segment (see :func:`segment_text`)."""
    return (segment[3].join(segment[2]) + segment[4]).encode("latin-1")


class _Tokenizer:
    """The state of one pass over a stream: unread text, position and current delimiters."""

    def __init__(self, stream: BinaryIO, reporter: Reporter, block_size: int) -> None:
        self.read = stream.read
        self.report = reporter.report
        self.block_size = block_size
        self.pending = ""  # decoded text not yet turned into segments
        self.base = 0  # file offset of the next segment
        self.pending_start = 0  # file offset of pending[0]
        self.final = False  # the stream is exhausted: pending is all that is left
        self.known_ids: set[str] = set()  # ids already checked (never ISA: it needs checks)
        self.number = 1  # number of the next segment
        self.restart: Delimiters | None = None  # set when an ISA changes the delimiters
        self.regular_length = 0  # length of the segments split_pending found regular

    def fill(self, at_least: int) -> None:
        """Read blocks until ``pending`` holds ``at_least`` characters or the stream ends."""
        chunks = [self.pending]
        size = len(self.pending)
        while size < at_least and not self.final:
            block = self.read(self.block_size)
            if not block:
                self.final = True
                break
            text = block.decode("latin-1")
            chunks.append(text)
            size += len(text)
        self.pending = "".join(chunks)

    def batches(self) -> Iterator[Iterable[Segment]]:
        """Iterables of consecutive segments, about one per block (chained by iter_segments).

        A regular block (one regex pass found every terminator followed by the regular line
        break and a valid segment id) becomes one ``zip`` of C iterators (numbers, running
        offsets, split elements): no Python code runs per segment. Any other block goes
        segment by segment through :meth:`checked`.
        """
        self.fill(ISA_LOOKAHEAD)
        delimiters = self.first_isa()
        if delimiters is None:
            return
        while True:
            split_final = self.final  # a check may read the rest of the stream meanwhile
            parts, ends = self.split_pending(delimiters)
            separator = delimiters.element
            if isinstance(ends, str):
                yield self.regular(parts, separator, ends)
                self.trim()
            elif parts:
                yield self.checked(parts, ends, delimiters)  # may set self.restart
                self.trim()
                if self.restart is not None:
                    delimiters, self.restart = self.restart, None
                    continue
            if self.pending.startswith("ISA") and (
                self.final or len(self.pending) >= ISA_LOOKAHEAD
            ):
                # The next interchange may end its segments with another terminator, so
                # the old one would never split it: read its ISA first.
                restart = self.check_isa(delimiters, self.number, self.base)
                if restart is not None:
                    delimiters = restart
                    continue
            if self.final and not split_final:
                continue  # the stream ended while this block was read: split what is left
            if self.final:
                if self.pending:
                    # No terminator after the last text: the file was cut off inside a segment.
                    yield self.truncated(delimiters)
                    self.trim()
                return
            self.fill(len(self.pending) + 1)

    def regular(self, parts: list[str], separator: str, end: str) -> Iterator[Segment]:
        """The segments of a regular block, all built in C; advances number and offset."""
        step = len(end)
        offsets = accumulate(map(add, map(len, parts), repeat(step)), initial=self.base)
        elements = map(str.split, parts, repeat(separator))
        batch = zip(count(self.number), offsets, elements, repeat(separator), repeat(end))
        self.advance(len(parts), self.regular_length)
        return batch

    def checked(
        self, parts: list[str], ends: list[str], delimiters: Delimiters
    ) -> Iterator[Segment]:
        """Segment by segment: ids checked, and at an ISA that changes the delimiters the
        batch stops with ``self.restart`` set."""
        known = self.known_ids
        separator = delimiters.element
        for part, end in zip(parts, ends, strict=False):
            number, offset = self.number, self.base
            elements = part.split(separator)
            if elements[0] not in known:
                if part.startswith("ISA"):
                    self.restart = self.check_isa(delimiters, number, offset)
                    if self.restart is not None:
                        return
                else:
                    self.check_id(elements[0], part, number, offset)
            self.advance(1, len(part) + len(end))
            yield number, offset, elements, separator, end

    def advance(self, segments: int, length: int) -> None:
        """Move past ``segments`` segments of ``length`` characters in total."""
        self.number += segments
        self.base += length

    def trim(self) -> None:
        """Drop the text of the segments already handed out from ``pending``."""
        self.pending = self.pending[self.base - self.pending_start :]
        self.pending_start = self.base

    def split_pending(self, delimiters: Delimiters) -> tuple[list[str], str | list[str]]:
        """The complete segments at the start of ``pending`` and their ends.

        ``ends`` is one string in the fast case: every terminator is followed by exactly the
        regular line break and every segment starts with a plain valid id (no ISA). Otherwise
        it is one exact end per segment. The last part (no terminator yet) stays pending.
        While more input may follow, the last complete segment stays pending too when nothing
        but line breaks follows it: more line breaks at the start of the next block still
        belong to its end.
        """
        text = self.pending
        term, end = delimiters.terminator, delimiters.end
        parts = text.split(end)
        held = self.hold_back(parts)
        if held and not held[0].startswith(("\r", "\n")):
            # The held parts are joined by ``end``: what comes before them is complete.
            self.regular_length = len(text) - sum(map(len, held)) - len(end) * (len(held) - 1)
            if plain_ids(text, self.regular_length - len(end), delimiters):
                return parts, end
        parts, ends = split_exact(text, term)
        self.hold_back(parts)
        return parts, ends

    def hold_back(self, parts: list[str]) -> list[str]:
        """Remove and return the parts that stay pending (see :meth:`split_pending`)."""
        keep = 1
        if not self.final and len(parts) > 1 and not parts[-1].strip(LINE_BREAKS):
            keep = 2
        elif self.final and parts[-1] and not parts[-1].strip(LINE_BREAKS):
            keep = 0  # trailing line breaks: not a segment; they make the exact split
        held = parts[len(parts) - keep :]
        del parts[len(parts) - keep :]
        return held

    def first_isa(self) -> Delimiters | None:
        """Skip a byte order mark or blank space before the first ISA (reported) and read it."""
        text = self.pending
        start = isa_start(text)
        if start and len(text) > start:
            self.report(
                "leading-bytes",
                f"{start} byte(s) before the ISA (byte order mark or blank space) were skipped",
                level=Level.INTERCHANGE,
                number=None,
                segment_id=None,
                offset=0,
                fatal=False,
                fix="ask the sender to start the file with ISA",
            )
        self.pending = text[start:]
        self.base = self.pending_start = start
        if not self.pending.startswith("ISA"):
            self.report_not_x12(start)
            return None
        try:
            delimiters, _ = read_isa(self.pending)
        except IsaError as exc:
            self.report_isa(exc, 1, start)
            return None
        return delimiters  # its length and content are checked with its segment (checked())

    def report_not_x12(self, offset: int) -> None:
        head = self.pending[:16]
        if re.match(r"(?:ST|GS)[!-/:-@\[-`{-~]\d", head):  # an 835 without its ISA
            code = "missing-isa"
            what = "the file starts with a segment but not with ISA: the interchange "
            what += "envelope (ISA/GS) is missing"
            fix = "ask the sender for the complete interchange (ISA..IEA)"
        else:
            code = "not-x12"
            what = f"not an X12 interchange: it starts with {printable_prefix(head)}"
            fix = "check that the right file was received"
        self.report(
            code, what, level=Level.INTERCHANGE, number=1, segment_id=None, offset=offset, fix=fix
        )

    def report_isa(self, exc: IsaError, number: int, offset: int) -> None:
        self.report(
            exc.code,
            exc.message,
            level=Level.INTERCHANGE,
            number=number,
            segment_id="ISA",
            offset=offset,
            fix="the ISA must be 106 characters: 16 fixed-width elements and a terminator",
        )

    def check_isa_length(self, length: int, number: int, offset: int) -> None:
        if not isa_length_ok(length):
            self.report(
                "isa-length",
                f"the ISA is {length + 1} characters long, not 106 (fixed-width elements "
                "padded wrongly)",
                level=Level.INTERCHANGE,
                number=number,
                segment_id="ISA",
                offset=offset,
                fix="ask the sender to pad ISA06/ISA08 to 15 characters",
            )

    def check_isa_content(self, delimiters: Delimiters, length: int, number: int,
                          offset: int) -> None:
        at = offset - self.pending_start
        for code, element, message in isa_problems(self.pending[at:], delimiters, length):
            self.report(code, message, level=Level.INTERCHANGE, number=number,
                        segment_id="ISA", offset=offset, element=element, fix=ISA_FIX,
                        x12_code=ISA_TA105.get(element))

    def check_isa(self, current: Delimiters, number: int, offset: int) -> Delimiters | None:
        """A new interchange: the delimiters to restart with when they differ, else None."""
        at = offset - self.pending_start
        if not self.final and len(self.pending) - at < ISA_LOOKAHEAD:
            self.fill(len(self.pending) + ISA_LOOKAHEAD)
        try:
            delimiters, length = read_isa(self.pending[at:])
        except IsaError as exc:
            self.report_isa(exc, number, offset)
            return None
        if delimiters.element == current.element and delimiters.terminator == current.terminator:
            self.check_isa_length(length, number, offset)  # (after a switch: checked again
            self.check_isa_content(delimiters, length, number, offset)  # with the new ones)
            return None
        return delimiters

    def check_id(self, seg_id: str, part: str, number: int, offset: int) -> None:
        if SEGMENT_ID.fullmatch(seg_id):
            self.known_ids.add(seg_id)
            return
        if not part:
            code, what = "empty-segment", "empty segment (two terminators in a row)"
        else:
            code = "bad-segment-id"
            what = f"invalid segment id {printable_prefix(seg_id[:8])}"
        self.report(
            code,
            what,
            level=Level.SEGMENT,
            number=number,
            segment_id=seg_id[:3] or None,
            offset=offset,
            fix="ask the sender to correct the segment (segment ids are 2-3 capitals/digits)",
        )

    def truncated(self, delimiters: Delimiters) -> list[Segment]:
        elements = self.pending.split(delimiters.element)
        number, offset = self.number, self.base
        self.report(
            "truncated",
            "the file ends inside a segment (no segment terminator): it was cut off",
            level=Level.INTERCHANGE,
            number=number,
            segment_id=elements[0][:3] or None,
            offset=offset,
            fix="ask the sender to resend the complete file",
        )
        self.advance(1, len(self.pending))
        return [(number, offset, elements, delimiters.element, "")]


def printable_prefix(text: str) -> str:
    """Up to 16 characters, non-printable ones escaped: safe to show, too short to be PHI."""
    return repr(text[:16])
