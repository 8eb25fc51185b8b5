"""TR3 defects as findings: a stable code, the level, and where (segment, loop, element).

Every kind of defect pyx12 reports has one code here (``KINDS``), the acknowledgment code it
stands for (IK304 for segments, IK403 for elements, IK502, AK905 or TA105 for envelopes) and
the level that decides what it rejects. A finding names the segment number, id and byte
offset, the set's ST02 and the group's GS06, the segment's position in the set (IK302), the
guide's loop (IK303), and for element defects the element and component (IK401) — and never
a value that could be patient data (names, ids, dates of birth stay out of messages).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.errors import Location
from gateway.x12.syntax.findings import Finding, Level
from gateway.x12.syntax.tokenizer import Segment
from gateway.x12.tr3.elements import ElementError
from gateway.x12.tr3.tables import Node
from gateway.x12.tr3.walker import (
    LOOP_OVER_MAX,
    MISSING,
    NOT_FOUND,
    NOT_USED,
    SEGMENT_OVER_MAX,
    WalkError,
)

# pyx12's kind ("walk" / "reader" / "envelope" / "element" + its code) -> (our code, x12 code)
WALK_CODES = {
    NOT_FOUND: ("tr3-unexpected-segment", "1"),
    NOT_USED: ("tr3-not-used-segment", "2"),
    MISSING: ("tr3-missing-segment", "3"),
    LOOP_OVER_MAX: ("tr3-loop-repeats", "4"),
    SEGMENT_OVER_MAX: ("tr3-segment-repeats", "5"),
}
READER_CODES = {  # pyx12's reader: (code, x12 code, pyx12's own code, what)
    "leading-space": ("tr3-leading-space", "1", "1", "starts with a space"),
    "trailing-separator": ("tr3-trailing-separator", "8", "SEG1",
                           "ends with an element separator (empty trailing elements)"),
    "empty": ("tr3-empty-segment", "8", "8", "has no data in any element"),
    "bad-id": ("tr3-bad-segment-id", "1", "1", "does not have a valid segment id"),
    "hl-count": ("tr3-hl-number", "8", "HL1", "HL01 does not number the HL segments 1, 2, ..."),
    "hl-parent": ("tr3-hl-parent", "8", "HL2", "HL02 names no earlier HL as parent"),
}
ENVELOPE_CODES = {  # (code, level, x12 code, what)
    "duplicate-isa13": ("tr3-duplicate-isa13", Level.INTERCHANGE, "025",
                        "ISA13 repeats an earlier interchange control number of this file"),
    "duplicate-gs06": ("tr3-duplicate-gs06", Level.GROUP, "19",
                       "GS06 repeats an earlier group control number of this interchange"),
    "duplicate-st02": ("tr3-duplicate-st02", Level.TRANSACTION, "23",
                       "ST02 repeats an earlier transaction set control number of this group"),
}
ELEMENT_CODES = {
    "1": "tr3-missing-element", "2": "tr3-conditional-element", "3": "tr3-too-many-elements",
    "4": "tr3-too-short", "5": "tr3-too-long", "6": "tr3-invalid-character",
    "7": "tr3-invalid-code", "8": "tr3-invalid-date", "9": "tr3-invalid-time",
    "10": "tr3-excluded-element",
}
# TA105 for an error in each ISA element (ISA01..ISA16), as the gateway's TA1 writer uses.
_ISA_TA105 = {1: "010", 2: "011", 3: "012", 4: "013", 5: "005", 6: "006", 7: "007", 8: "008",
              9: "014", 10: "015", 11: "016", 12: "017", 13: "018", 14: "019", 15: "020",
              16: "027"}
_ENVELOPE_LEVEL = {"ISA": Level.INTERCHANGE, "IEA": Level.INTERCHANGE, "GS": Level.GROUP,
                   "GE": Level.GROUP, "ST": Level.TRANSACTION, "SE": Level.TRANSACTION}


@dataclass
class Where:
    """The envelope context a finding is reported in (set by the validator as it walks)."""

    st02: str | None = None
    gs06: str | None = None
    position: int | None = None


class Reporting:
    """Turns defects into findings appended to ``findings`` (at most ``limit`` of them)."""

    def __init__(self, file_name: str | None, findings: list[Finding], limit: int) -> None:
        self.file_name = file_name
        self.findings = findings
        self.limit = limit
        self.dropped = 0

    def add(self, finding: Finding) -> None:
        if len(self.findings) < self.limit:
            self.findings.append(finding)
        else:
            self.dropped += 1

    def close(self) -> None:
        """Say how many findings did not fit, so a long list is never silently cut."""
        if self.dropped:
            self.findings.append(Finding(
                "tr3-too-many-findings",
                f"{self.dropped} more TR3 finding(s) not listed (the first {self.limit} are); "
                "fix these and validate again", Level.GROUP, Location(file=self.file_name),
                fatal=False))

    def _location(self, segment: Segment, segment_id: str | None = None,
                  element: str | None = None) -> Location:
        return Location(file=self.file_name, segment_number=segment[0],
                        segment_id=segment_id or segment[2][0][:3] or None, element=element,
                        byte_offset=segment[1])

    def reader_defect(self, segment: Segment, kind: str, where: Where, loop: str | None) -> None:
        code, x12_code, _, what = READER_CODES[kind]
        self.add(Finding(code, f"segment {what}", Level.SEGMENT, self._location(segment),
                         transaction_set=where.st02, group_control_number=where.gs06,
                         segment_position=where.position, loop_id=loop, x12_code=x12_code))

    def envelope_defect(self, segment: Segment, kind: str, where: Where) -> None:
        code, level, x12_code, what = ENVELOPE_CODES[kind]
        self.add(Finding(code, what, level, self._location(segment),
                         transaction_set=where.st02, group_control_number=where.gs06,
                         x12_code=x12_code))

    def unsupported_guide(self, segment: Segment, gs01: str | None, gs08: str | None,
                          where: Where) -> None:
        # AK905 2: the version is not supported (1 when the GS01 itself is unknown).
        known = gs01 in ("HP", "HC", "HB", "HS", "HI", "HN", "HR", "BE", "RA", "FA")
        self.add(Finding(
            "tr3-unsupported-version",
            f"no implementation guide for GS01 {gs01!r} / GS08 {gs08!r}: the group cannot be "
            "validated; ask the partner which guide they follow", Level.GROUP,
            self._location(segment, "GS", "GS08"), group_control_number=where.gs06,
            x12_code="2" if known else "1"))

    def walk_error(self, segment: Segment, error: WalkError, where: Where) -> None:
        code, x12_code = WALK_CODES[error.code]
        node = error.node
        seg_id = segment[2][0][:3] or None
        if error.code == MISSING and error.loop is not None:
            code = "tr3-missing-loop"
            what = (f"required loop {error.loop.id} ({error.loop.name}) is missing before "
                    f"this {seg_id}")
            seg_id, loop = node.id, error.loop.guide_loop_id()
        elif error.code == MISSING:
            what = f"required segment {node.id} ({node.name}) is missing before this {seg_id}"
            seg_id, loop = node.id, node.guide_loop_id()
        elif error.code == NOT_FOUND:
            where_now = node.guide_loop_id() or "the header"
            what = f"{seg_id} is not expected here (after {node.id}, in {where_now})"
            loop = node.guide_loop_id()
        elif error.code == LOOP_OVER_MAX:
            what = f"loop {node.id} ({node.name}) occurs more than {node.max} time(s)"
            loop = node.guide_loop_id()
        elif error.code == SEGMENT_OVER_MAX:
            what = f"{node.id} ({node.name}) occurs more than {node.max} time(s) here"
            loop = node.guide_loop_id()
        else:
            kind = "loop" if node.is_loop else "segment"
            what = f"{kind} {node.id} ({node.name}) is not used in this guide"
            loop = node.guide_loop_id()
        self.add(Finding(code, what, Level.SEGMENT, self._location(segment, seg_id),
                         transaction_set=where.st02, group_control_number=where.gs06,
                         segment_position=where.position, loop_id=loop, x12_code=x12_code))

    def element_error(self, segment: Segment, node: Node, error: ElementError, where: Where
                      ) -> None:
        seg_id = node.id
        element = None
        if error.element is not None:
            element = f"{seg_id}{error.element:02d}" + (
                f"-{error.component}" if error.component else "")
        level = _ENVELOPE_LEVEL.get(seg_id, Level.SEGMENT)
        x12_code = error.code
        if seg_id == "ISA":
            x12_code = _ISA_TA105.get(error.element or 0, "022")
        elif level is Level.GROUP:
            x12_code = "6"
        elif level is Level.TRANSACTION:
            x12_code = "5"
        self.add(Finding(
            f"tr3-{error.kind}" if error.kind else ELEMENT_CODES[error.code],
            error.message, level,
            self._location(segment, seg_id, element), fatal=not error.warning,
            transaction_set=where.st02, group_control_number=where.gs06,
            segment_position=where.position if level is Level.SEGMENT else None,
            loop_id=node.guide_loop_id(), element_position=error.element,
            component_position=error.component, x12_code=x12_code,
            trigger_element=error.trigger))
