"""Element values of an 835: amounts, dates, and where a run of segments came from.

Amounts are ``Decimal`` built from the element text (never float) and must look like the X12
R type (digits, optional minus and decimal point): ``NaN``, ``1E5`` or ``12,00`` are fatal
``bad-amount`` findings, because money is never guessed. Dates that are not CCYYMMDD become
None with a warning (``bad-date``). Both conversions are cached per file: the same amounts
(copays, fees) and dates recur thousands of times in a central-pay file. A cache is emptied
when it holds CACHE_LIMIT entries, so a huge file is still read in bounded memory.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from gateway.model import SourceRef, fast_constructor
from gateway.x12.read.checks import report_at
from gateway.x12.syntax.findings import Level
from gateway.x12.syntax.reporter import Reporter
from gateway.x12.syntax.tokenizer import SEGMENT_ID, Segment

ZERO = Decimal(0)
NUMBER_CHARS = "0123456789.-"
CACHE_LIMIT = 4096  # entries per cache (~1 MB): cleared when full, memory stays bounded
new_source = fast_constructor(
    SourceRef, "file first_segment last_segment start_offset end_offset"
)


class Values:
    """Converts element texts for one file and reports what cannot be converted."""

    def __init__(self, reporter: Reporter, file_name: str | None) -> None:
        self.reporter = reporter
        self.file_name = file_name
        self.dates: dict[str, date | None] = {}
        self.amounts: dict[str, Decimal] = {}

    def money(self, segment: Segment, index: int) -> Decimal:
        """A required amount (R type): digits, optional sign and decimal point."""
        elements = segment[2]
        text = elements[index] if index < len(elements) else ""
        value = self.amounts.get(text)
        if value is not None:
            return value
        if text and not text.strip(NUMBER_CHARS):
            try:
                value = Decimal(text)
            except InvalidOperation:
                pass
            else:
                if len(self.amounts) > CACHE_LIMIT:
                    self.amounts.clear()
                self.amounts[text] = value
                return value
        name = f"{segment[2][0]}{index:02d}"
        what = f"{name} is empty" if not text else f"{name} {text[:20]!r} is not an amount"
        report_at(
            self.reporter,
            segment,
            "bad-amount",
            what,
            level=Level.SEGMENT,
            element=name,
            fix="ask the sender to correct the amount; money is never guessed",
        )
        return ZERO

    def optional_money(self, segment: Segment, index: int) -> Decimal | None:
        elements = segment[2]
        return self.money(segment, index) if index < len(elements) and elements[index] else None

    def date(self, segment: Segment, index: int) -> date | None:
        """CCYYMMDD, or None (with a warning) when absent or not a real date."""
        elements = segment[2]
        text = elements[index] if index < len(elements) else ""
        if not text:
            return None
        if text in self.dates:
            return self.dates[text]
        value: date | None = None
        if len(text) == 8 and text.isdigit():
            try:
                value = date(int(text[:4]), int(text[4:6]), int(text[6:]))
            except ValueError:
                value = None
        if value is None:
            report_at(
                self.reporter,
                segment,
                "bad-date",
                f"{segment[2][0]}{index:02d} {text[:10]!r} is not a date (CCYYMMDD); read as empty",
                level=Level.SEGMENT,
                fatal=False,
            )
            return None
        if len(self.dates) > CACHE_LIMIT:
            self.dates.clear()
        self.dates[text] = value
        return value

    def unexpected(self, segment: Segment, where: str) -> None:
        seg_id = segment[2][0]
        if not SEGMENT_ID.fullmatch(seg_id):
            return  # the tokenizer already reported the invalid id
        report_at(
            self.reporter,
            segment,
            "unexpected-segment",
            f"segment {seg_id} is not valid in {where} of an 835",
            level=Level.SEGMENT,
            fix="ask the sender to correct the file",
        )

    def source(self, body: list[Segment], start: int, stop: int) -> SourceRef:
        """Segments ``body[start:stop]``; they end where ``body[stop]`` begins."""
        return new_source(
            self.file_name, body[start][0], body[stop - 1][0], body[start][1], body[stop][1]
        )
