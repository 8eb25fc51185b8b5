"""Checks on the hot path: envelopes, counts, composites and 835 balancing.

Every check reports through a :class:`~gateway.x12.syntax.reporter.Reporter` with a stable ``code``
and the segment number, id and byte offset, so the same code serves ``gateway parse``
(raise on the first fatal defect) and ``gateway validate`` / the 999 writer (collect all).

Codes: envelope ``outside-envelope``, ``missing-se``, ``missing-ge``, ``missing-iea``,
``truncated``; control numbers ``se-control``, ``ge-control``, ``iea-control``; counts
``se-count``, ``ge-count``, ``iea-count``; content ``not-835``, ``version-4010``,
``version``, ``delimiter-mismatch``, ``bad-composite``; balancing ``unbalanced-payment``,
``unbalanced-claim``, ``unbalanced-line``.
"""

from __future__ import annotations

from decimal import Decimal

from gateway.x12.syntax.delimiters import ascii_int
from gateway.x12.syntax.findings import Level
from gateway.x12.syntax.reporter import Reporter
from gateway.x12.syntax.tokenizer import Segment, segment_text

VERSION_835 = "005010X221A1"
# GS01 codes a remittance feed may be sent by mistake, named in the not-835 finding.
FUNCTIONAL_GROUPS = {
    "HC": "837 health care claims", "HP": "835 remittances", "FA": "999/997 acknowledgments",
    "HS": "270 eligibility inquiries", "HB": "271 eligibility responses",
    "HR": "276 claim status requests", "HN": "277 claim status responses",
    "BE": "834 benefit enrollments", "RA": "820 premium payments", "HI": "278 reviews",
}
# Component separators seen in the wild. A composite that lacks the declared separator but
# splits on one of these right after a two-character qualifier was written with another
# file's delimiters (a classic of hand-edited samples): see check_composite.
COMMON_COMPONENT_SEPARATORS = ":>^|\\<!"


def report_at(
    reporter: Reporter, segment: Segment, code: str, message: str, *, level: Level, **kw: object
) -> None:
    """Report a defect located at ``segment`` (number, id, byte offset)."""
    reporter.report(
        code,
        message,
        level=level,
        number=segment[0],
        segment_id=segment[2][0],
        offset=segment[1],
        **kw,  # type: ignore[arg-type]
    )


def element(segment: Segment, index: int) -> str:
    """Element ``index`` of a segment, "" when absent."""
    elements = segment[2]
    return elements[index] if index < len(elements) else ""


class EnvelopeChecker:
    """Pairs ISA/IEA, GS/GE and ST/SE and checks their control numbers and counts.

    The reader feeds it the envelope segments only: the segment count of a transaction set
    comes from segment numbers (SE number − ST number + 1), so the body never passes here.
    """

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.isa: Segment | None = None
        self.gs: Segment | None = None
        self.st: Segment | None = None
        self.groups = 0  # GS..GE in the open interchange
        self.sets = 0  # ST..SE in the open group

    def report(self, segment: Segment, code: str, message: str, level: Level, fix: str) -> None:
        report_at(self.reporter, segment, code, message, level=level, fix=fix)

    def outside(self, segment: Segment, what: str) -> None:
        self.report(
            segment,
            "outside-envelope",
            f"segment {segment[2][0]} is outside any {what}",
            Level.INTERCHANGE if what == "interchange (ISA..IEA)" else Level.GROUP,
            "every segment must sit inside ISA..IEA, GS..GE and ST..SE; ask the sender",
        )

    def open_interchange(self, segment: Segment) -> None:
        self.unclosed(segment, sets=True, groups=True, interchange=True)
        self.isa, self.groups = segment, 0

    def open_group(self, segment: Segment) -> None:
        if self.isa is None:
            self.outside(segment, "interchange (ISA..IEA)")
        self.unclosed(segment, sets=True, groups=True)
        self.gs, self.sets = segment, 0
        self.groups += 1

    def open_set(self, segment: Segment) -> None:
        if self.gs is None:
            self.outside(segment, "functional group (GS..GE)")
        self.unclosed(segment, sets=True)
        self.st = segment
        self.sets += 1

    def unclosed(
        self, segment: Segment, *, sets: bool, groups: bool = False, interchange: bool = False
    ) -> None:
        """``segment`` opens or closes an outer level while inner ones are still open: report
        each open ST (no SE), GS (no GE), ISA (no IEA) asked about, and forget it."""
        if sets and self.st is not None:
            self.missing(segment, self.st, "missing-se", "SE", Level.TRANSACTION)
            self.st = None
        if groups and self.gs is not None:
            self.missing(segment, self.gs, "missing-ge", "GE", Level.GROUP)
            self.gs = None
        if interchange and self.isa is not None:
            self.missing(segment, self.isa, "missing-iea", "IEA", Level.INTERCHANGE)
            self.isa = None

    def missing(
        self, segment: Segment, opened: Segment, code: str, closer: str, level: Level
    ) -> None:
        self.report(
            segment,
            code,
            f"{segment[2][0]} found while the {opened[2][0]} at segment {opened[0]} has no "
            f"{closer}",
            level,
            "the file is incomplete or two files were joined; ask the sender to resend",
        )

    def close_set(self, segment: Segment) -> None:
        st = self.st
        if st is None:
            self.outside(segment, "transaction set (ST..SE)")
            return
        self.st = None
        count = segment[0] - st[0] + 1
        declared = element(segment, 1)
        if declared != str(count) and _as_int(declared) != count:
            what = " (not ASCII digits)" if not declared.isascii() else ""
            self.report(
                segment,
                "se-count",
                f"SE01 says {declared!r}{what} segments but the set ST..SE has {count}",
                Level.TRANSACTION,
                "ask the sender to correct SE01 (it counts ST and SE too)",
            )
        if element(segment, 2) != element(st, 2):
            self.report(
                segment,
                "se-control",
                f"SE02 {element(segment, 2)!r} does not match ST02 {element(st, 2)!r}",
                Level.TRANSACTION,
                "ask the sender to correct the transaction set control number",
            )

    def close_group(self, segment: Segment) -> None:
        gs = self.gs
        self.unclosed(segment, sets=True)
        if gs is None:
            self.outside(segment, "functional group (GS..GE)")
            return
        self.gs = None
        if _as_int(element(segment, 1)) != self.sets:
            self.report(
                segment,
                "ge-count",
                f"GE01 says {element(segment, 1)!r} transaction sets but the group has {self.sets}",
                Level.GROUP,
                "ask the sender to correct GE01",
            )
        if element(segment, 2) != element(gs, 6):
            self.report(
                segment,
                "ge-control",
                f"GE02 {element(segment, 2)!r} does not match GS06 {element(gs, 6)!r}",
                Level.GROUP,
                "ask the sender to correct the group control number",
            )

    def close_interchange(self, segment: Segment) -> None:
        isa = self.isa
        self.unclosed(segment, sets=True, groups=True)
        if isa is None:
            self.outside(segment, "interchange (ISA..IEA)")
            return
        self.isa = None
        if _as_int(element(segment, 1)) != self.groups:
            self.report(
                segment,
                "iea-count",
                f"IEA01 says {element(segment, 1)!r} groups but the interchange has {self.groups}",
                Level.INTERCHANGE,
                "ask the sender to correct IEA01",
            )
        if element(segment, 2) != element(isa, 13):
            self.report(
                segment,
                "iea-control",
                f"IEA02 {element(segment, 2)!r} does not match ISA13 {element(isa, 13)!r}",
                Level.INTERCHANGE,
                "ask the sender to correct the interchange control number",
            )

    def finish(self, last: Segment | None) -> None:
        """End of file: every envelope must be closed."""
        opened = self.st or self.gs or self.isa
        if opened is None:
            return
        where = last or opened
        closer = "SE" if self.st else "GE" if self.gs else "IEA"
        self.reporter.report(
            "truncated",
            f"the file ends without {closer} (segment {opened[0]} {opened[2][0]} is not "
            "closed): it is incomplete",
            level=Level.INTERCHANGE,
            number=where[0],
            segment_id=where[2][0],
            offset=where[1] + len(segment_text(where)),
            fix="ask the sender to resend the complete file",
        )


def check_group_is_835(reporter: Reporter, gs: Segment) -> bool:
    """GS01 must be HP (claim payment/advice) and GS08 005010X221A1; False when not an 835
    group at all (its transaction sets are then not read). A 4010 group is reported
    (``version-4010``) but still read, so that validate can show what else is wrong."""
    functional_id, version = element(gs, 1), element(gs, 8)
    if functional_id != "HP":
        what = FUNCTIONAL_GROUPS.get(functional_id)
        said = f"is the group code of {what}" if what else "is no X12 functional group code"
        report_at(
            reporter,
            gs,
            "not-835",
            f"GS01 {functional_id!r} {said}; 835 remittances travel in GS01=HP groups, so "
            "the transaction sets of this group are not read",
            level=Level.GROUP,
            fix="send only 835 (GS01=HP) groups to the remittance feed",
        )
        return False
    if version.startswith("004010"):
        report_at(
            reporter,
            gs,
            "version-4010",
            f"GS08 {version!r} is the retired 4010 835; HIPAA requires {VERSION_835}",
            level=Level.GROUP,
            fix="ask the payer for the 5010 (005010X221A1) remittance",
        )
    elif version != VERSION_835:
        report_at(
            reporter,
            gs,
            "version",
            f"GS08 {version!r} is not the 835 version {VERSION_835}",
            level=Level.GROUP,
            fix="ask the payer for a 005010X221A1 remittance",
        )
    return True


def check_composite(
    reporter: Reporter, segment: Segment, index: int, component: str, *, required: bool
) -> list[str]:
    """The components of composite element ``index``, with the delimiter-mismatch rule.

    Rule: a composite that does not contain the declared component separator (ISA16) but
    contains one of the commonly used separators right after a 1-3 character qualifier
    (``HC>99213`` under ISA16 ``:``) was written with another file's delimiters:
    ``delimiter-mismatch``, and the components are split on that character so the rest of
    the file can still be checked. A ``required`` composite (SVC01: qualifier and code) with
    no separator at all is ``bad-composite``.
    """
    text = element(segment, index)
    if component in text:
        return text.split(component)
    name = f"{segment[2][0]}{index:02d}"
    for candidate in COMMON_COMPONENT_SEPARATORS:
        head, found, _ = text.partition(candidate)
        if found and 1 <= len(head) <= 3 and head.isalnum():
            report_at(
                reporter,
                segment,
                "delimiter-mismatch",
                f"{name} {text[:12]!r} separates components with {candidate!r} but ISA16 "
                f"declares {component!r}",
                level=Level.SEGMENT,
                element=name,
                fix="ask the sender to use the component separator declared in ISA16",
            )
            return text.split(candidate)
    if required and text:
        report_at(
            reporter,
            segment,
            "bad-composite",
            f"{name} {text[:12]!r} has no component separator {component!r}: qualifier and "
            "code are not separated (the elements after it are shifted)",
            level=Level.SEGMENT,
            element=name,
            fix="ask the sender to send SVC01 as qualifier, separator, code (N4:<NDC>)",
        )
    return [text]


def check_balance(
    reporter: Reporter,
    segment: Segment,
    code: str,
    rule: str,
    expected: Decimal,
    actual: Decimal,
) -> None:
    """Report ``code`` at ``segment`` when ``expected != actual`` (rule names the equation)."""
    if expected != actual:
        report_at(
            reporter,
            segment,
            code,
            f"does not balance: {rule}: expected {expected}, found {actual}",
            level=Level.TRANSACTION,
            fix="ask the payer for a corrected remittance; do not post it as is",
        )


_as_int = ascii_int
