"""Writing X12 segments with any delimiter set: what the synthetic generators share.

Real partners use every delimiter set X12 allows (``*``/``|``/``^`` elements, ``~``/newline/
``'`` terminators, terminators followed by CR LF for readability), so the generators must too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

from gateway.x12.syntax.delimiters import Delimiters as SyntaxDelimiters

# Characters the generated data itself uses: a delimiter must not be one of them.
_DATA_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .-#")
SUFFIXES = {"none": "", "lf": "\n", "crlf": "\r\n"}


@dataclass(frozen=True)
class Delimiters(SyntaxDelimiters):
    """The gateway's one delimiter class (gateway.x12.syntax.delimiters), checked for what a
    generator writes: four distinct one-character delimiters that the generated data never
    contains, and a ``suffix`` (``""``, ``"\\n"`` or ``"\\r\\n"``) after every terminator,
    empty when the terminator itself is a line break. Generated files end lines with LF."""

    repetition: str = "^"  # always written (the generators write 00501 ISAs)
    suffix: str = "\n"

    def __post_init__(self) -> None:
        super().__post_init__()
        chars = (self.element, self.repetition, self.component, self.terminator)
        if any(len(c) != 1 for c in chars):
            raise ValueError("each delimiter must be exactly one character")
        if len(set(chars)) != 4:
            raise ValueError(f"delimiters must all differ: {chars!r}")
        if any(c in _DATA_CHARS for c in chars):
            raise ValueError("a delimiter must not be a letter, digit, space, '.', '-' or '#'")
        if self.suffix not in SUFFIXES.values():
            raise ValueError("suffix must be empty, LF or CR LF")
        if self.suffix and self.terminator in "\r\n":
            raise ValueError("no suffix may follow a line-break segment terminator")


def cents(amount: int) -> str:
    """Integer cents as an X12 R (decimal) value: ``-979`` -> ``-9.79``, ``1500`` -> ``15``."""
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 100)
    if not fraction:
        return f"{sign}{whole}"
    text = f"{sign}{whole}.{fraction:02d}"
    return text.rstrip("0")


class SegmentWriter:
    """Writes segments to a text stream and counts them (for SE01 and the summary).

    Trailing empty elements are dropped, as X12 requires.
    """

    def __init__(self, out: TextIO, delimiters: Delimiters) -> None:
        self._out = out
        self._d = delimiters
        self._end = delimiters.terminator + delimiters.suffix
        self.count = 0
        self._set_start = 0

    def segment(self, segment_id: str, *elements: str) -> None:
        sep = self._d.element
        text = sep.join((segment_id, *elements)).rstrip(sep)
        self._out.write(text + self._end)
        self.count += 1

    def isa(self, elements: list[str]) -> None:
        """The ISA: fixed width, so nothing is trimmed; ISA16 is the component separator."""
        sep = self._d.element
        self._out.write(sep.join(("ISA", *elements, self._d.component)) + self._end)
        self.count += 1

    def start_set(self) -> None:
        self._set_start = self.count

    def bpr(self, amount: int, day: str, payer_id: str = "1999999999") -> None:
        """The BPR of a synthetic 835: an ACH credit of ``amount`` cents on ``day``
        (CCYYMMDD) between the test banks, or a non-payment (``H``) when it is 0."""
        if amount:
            self.segment("BPR", "C", cents(amount), "C", "ACH", "CCP", "01", "011000015", "DA",
                         "123456789", payer_id, "", "01", "021000021", "DA", "987654321", day)
        else:
            self.segment("BPR", "H", "0", "C", "NON", *[""] * 11, day)

    def end_set(self, control_number: str) -> int:
        """Write SE with the count of segments ST..SE and return that count."""
        segments = self.count - self._set_start + 1
        self.segment("SE", str(segments), control_number)
        return segments
