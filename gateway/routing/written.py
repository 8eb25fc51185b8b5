"""What was written to the parts: the other side of the conservation proof, counted from the
bytes themselves as they go to the message store.

:class:`TallyingWriter` stands between the splitter and the store's part writer and counts
every byte the store is given for a part — the pharmacy's 835 exactly as it will be sent —
while it streams past: the segments that carry claims and money (BPR, CLP, PLB) are picked out
of the bytes by segment id, with the delimiters of the part's own ISA, and totalled. Nothing
of the splitter's own bookkeeping (its claim runs, its totals) is looked at, so a splitter that
drops, doubles or rewrites a claim or an amount is caught exactly as a read-back of the stored
part would catch it, without reading 100 MB of parts back out of the database.

Memory: one block of the part and one unfinished segment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from gateway.x12.split.parts import Owner, PartLocation, PartWriter, Piece, piece_bytes
from gateway.x12.syntax.delimiters import ISA_LENGTH, LEADING_BLANKS, IsaError, read_isa

BLANKS = re.escape(LEADING_BLANKS.encode("latin-1"))


@dataclass
class Written:
    """The claims and money segments of one part's bytes, in order."""

    claims: int = 0
    paid: Decimal = Decimal(0)  # ΣCLP04
    payment: Decimal = Decimal(0)  # ΣBPR02
    plbs: list[tuple[str, Decimal]] = field(default_factory=list)  # (PLB reason, amount)
    size: int = 0  # bytes


class PartScanner:
    """Counts one part's BPR/CLP/PLB segments from its bytes, fed block by block."""

    def __init__(self) -> None:
        self.written = Written()
        self._pending = b""
        self._pattern: re.Pattern[bytes] | None = None
        self._element = b"*"
        self._component = ":"
        self._terminator = b"~"

    def feed(self, block: bytes) -> None:
        self.written.size += len(block)
        data = self._pending + block
        if self._pattern is None:
            if len(data) < ISA_LENGTH + 2:
                self._pending = data
                return
            self._start(data)
        # Only whole segments: up to the last terminator; the rest waits for the next block.
        last = data.rfind(self._terminator)
        if last < 0:
            self._pending = data
            return
        self._scan(data, last)
        self._pending = data[last:]  # starts with a terminator: the next segment's anchor

    def finish(self) -> Written:
        rest = self._pending.lstrip(self._terminator).strip(LEADING_BLANKS.encode("latin-1"))
        if rest or self._pattern is None:
            raise ValueError("a part's bytes do not end with a whole segment")
        return self.written

    def _start(self, data: bytes) -> None:
        """The part's delimiters, from its own ISA (the gateway wrote it: no blanks first)."""
        try:
            delimiters, _ = read_isa(data[: ISA_LENGTH + 40].decode("latin-1"))
        except IsaError as exc:
            raise ValueError(f"a part does not start with a readable ISA: {exc}") from None
        self._element = delimiters.element_bytes
        self._component = delimiters.component
        self._terminator = delimiters.terminator_bytes
        t, e = re.escape(self._terminator), re.escape(self._element)
        self._pattern = re.compile(
            t + b"[" + BLANKS + b"]*(BPR|CLP|PLB)" + e + b"([^" + t + b"]*)")

    def _scan(self, data: bytes, last: int) -> None:
        assert self._pattern is not None
        element = self._element.decode("latin-1")
        written = self.written
        for match in self._pattern.finditer(data, 0, last + 1):
            kind = match.group(1)
            elements = [kind.decode(), *match.group(2).decode("latin-1").split(element)]
            if kind == b"CLP":
                written.claims += 1
                written.paid += _amount(elements, 4)
            elif kind == b"BPR":
                written.payment += _amount(elements, 2)
            else:
                for at in range(3, len(elements) - 1, 2):
                    written.plbs.append((elements[at].split(self._component)[0],
                                         _amount(elements, at + 1)))


def _amount(elements: list[str], index: int) -> Decimal:
    """An amount of the part; a part the gateway wrote with a bad amount is a gateway bug."""
    text = elements[index] if index < len(elements) else ""
    try:
        return Decimal(text) if text else Decimal(0)
    except InvalidOperation:
        raise ValueError(f"{elements[0]}{index:02d} {text!r} of a part is not an amount") from None


class TallyingWriter:
    """A part writer that hands every part to ``inner`` and counts the bytes it hands over:
    :attr:`written` maps each part's location to what its bytes carry."""

    def __init__(self, inner: PartWriter) -> None:
        self.inner = inner
        self.written: dict[PartLocation, Written] = {}

    def write(self, owner: Owner, name: str, pieces: Iterable[Piece]) -> PartLocation:
        scanner = PartScanner()
        location = self.inner.write(owner, name, _counted(piece_bytes(pieces), scanner))
        self.written[location] = scanner.finish()
        return location


def _counted(blocks: Iterator[bytes], scanner: PartScanner) -> Iterator[Piece]:
    for block in blocks:
        scanner.feed(block)
        yield block
