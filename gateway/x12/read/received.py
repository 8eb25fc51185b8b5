"""What an acknowledgment answers: the envelopes of a received file, and whose finding is whose.

An acknowledgment names the interchange (TA1), each functional group (AK1, AK9) and each
transaction set (AK2, IK5) it answers, and places every defect in its set (IK3 position,
IK4 element). The checks that find defects do not always know all of that, so
:func:`attribute` completes each finding from the segment ranges read here: the set and
group it falls in, its position inside the set, its element position from a name like
``BPR02``, and the acknowledgment code our finding codes stand for.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from gateway.x12.syntax.delimiters import ascii_int
from gateway.x12.syntax.findings import Finding, FindingDetails, Level
from gateway.x12.syntax.tokenizer import Segment, iter_segments


@dataclass(frozen=True)
class ReceivedSet:
    set_id: str  # ST01
    control_number: str  # ST02
    convention: str = ""  # ST03 (the 835 does not send it)
    first_segment: int = 0  # segment numbers (from 1 in the file) of its ST ...
    last_segment: int | None = None  # ... and of its SE (None when the SE is missing)


@dataclass(frozen=True)
class ReceivedGroup:
    functional_id: str  # GS01
    sender: str  # GS02
    receiver: str  # GS03
    control_number: str  # GS06
    version: str  # GS08
    sets: tuple[ReceivedSet, ...] = ()
    declared_sets: int | None = None  # GE01; None when the GE is missing or not a number
    first_segment: int = 0
    last_segment: int | None = None


@dataclass(frozen=True)
class ReceivedInterchange:
    """What an acknowledgment needs to know about the interchange it answers."""

    sender_qualifier: str  # ISA05
    sender_id: str  # ISA06 (trailing spaces stripped)
    receiver_qualifier: str  # ISA07
    receiver_id: str  # ISA08
    date: str  # ISA09 YYMMDD
    time: str  # ISA10 HHMM
    control_number: str  # ISA13
    usage: str  # ISA15
    groups: tuple[ReceivedGroup, ...] = ()
    first_segment: int = 1
    last_segment: int | None = None

    def holds(self, finding: Finding) -> bool:
        """True when ``finding`` is about this interchange (by its segment number)."""
        return _within(finding.location.segment_number, self.first_segment, self.last_segment)


ENVELOPE_TAGS = frozenset({"ISA", "GS", "ST", "SE", "GE", "IEA"})  # all the envelopes need


def read_envelopes(stream: BinaryIO) -> list[ReceivedInterchange]:
    """The envelopes of an X12 file, read leniently (the checks report the defects)."""
    segments = iter_segments(stream, findings=[])
    return received_interchanges(segment[2] for segment in segments)


def received_interchanges(segments: Iterable[Sequence[str]]) -> list[ReceivedInterchange]:
    """The envelopes of a file, from its segments as element lists (``elements[0]`` is the id).

    Pass every segment of the file: their count gives the segment ranges. Tolerant on
    purpose — an acknowledgment is most needed for a broken file — so missing elements
    become ``""`` and a missing SE, GE or IEA still yields what was read.
    """
    reader = EnvelopeReader()
    add = reader.add
    number = 0
    for number, elements in enumerate(segments, 1):
        if elements[0] in ENVELOPE_TAGS:
            add(number, elements)
    return reader.finish(number)


class EnvelopeReader:
    """:func:`received_interchanges` pushed segment by segment, for whoever tokenizes the file
    anyway: the daemon's parse feeds it from ``iter_835``'s tap (which sees every envelope
    segment with its number in the file), so the acknowledgment needs no read of its own.
    Segments other than ISA/GS/ST/SE/GE/IEA may be fed or not: they change nothing.
    ``iter_835(..., tap=reader.feed, end=reader.end)`` leaves the envelopes in
    :attr:`interchanges` once the file is read through (None while it is not)."""

    def __init__(self) -> None:
        self.interchanges: list[ReceivedInterchange] | None = None
        self.result: list[ReceivedInterchange] = []
        self.isa: Sequence[str] | None = None
        self.gs: Sequence[str] | None = None
        self.groups: list[ReceivedGroup] = []
        self.sets: list[ReceivedSet] = []
        self.isa_at = self.gs_at = 0

    def feed(self, segment: Segment) -> None:
        """Take one tokenized segment (a tap of ``iter_835``)."""
        elements = segment[2]
        if elements[0] in ENVELOPE_TAGS:
            self.add(segment[0], elements)

    def add(self, number: int, elements: Sequence[str]) -> None:
        """Take envelope segment ``elements`` (an id of :data:`ENVELOPE_TAGS`), the file's
        segment ``number`` (from 1)."""
        tag = elements[0]
        sets = self.sets
        if tag == "ISA":
            self._close_interchange(number - 1 if self.isa is not None else None)
            self.isa, self.isa_at = elements, number
        elif tag == "GS":
            self._close_group(None, number - 1)
            self.gs, self.gs_at = elements, number
        elif tag == "ST":
            if sets and sets[-1].last_segment is None:  # its SE is missing: it ends here
                sets[-1] = dataclasses.replace(sets[-1], last_segment=number - 1)
            sets.append(ReceivedSet(_get(elements, 1), _get(elements, 2), _get(elements, 3),
                                    number))
        elif tag == "SE" and sets and sets[-1].last_segment is None:
            sets[-1] = dataclasses.replace(sets[-1], last_segment=number)
        elif tag == "GE":
            self._close_group(_get(elements, 1), number)
        elif tag == "IEA":
            self._close_interchange(number)

    def end(self, last: Segment | None) -> None:
        """The file is read through (``iter_835``'s end): what is open ends at its last
        segment (None: the file has none)."""
        self.interchanges = self.finish(last[0] if last is not None else 0)

    def finish(self, last: int) -> list[ReceivedInterchange]:
        """The interchanges read, once ``last`` (the number of the file's last segment, 0
        for none) ends whatever is still open."""
        self._close_interchange(last if self.isa is not None else None)
        return self.result

    def _close_group(self, ge01: str | None, at: int | None) -> None:
        gs = self.gs
        if gs is not None:
            declared = ascii_int(ge01) if ge01 else None
            self.groups.append(ReceivedGroup(
                _get(gs, 1), _get(gs, 2), _get(gs, 3), _get(gs, 6), _get(gs, 8),
                tuple(self.sets), declared, self.gs_at, at))
        self.gs, self.sets = None, []

    def _close_interchange(self, at: int | None) -> None:
        self._close_group(None, at)
        isa = self.isa
        if isa is not None:
            self.result.append(ReceivedInterchange(
                _get(isa, 5), _get(isa, 6).rstrip(), _get(isa, 7), _get(isa, 8).rstrip(),
                _get(isa, 9), _get(isa, 10), _get(isa, 13), _get(isa, 15), tuple(self.groups),
                self.isa_at, at))
        self.isa, self.groups = None, []


# The acknowledgment code each of our structural finding codes stands for, by level — TA105
# (interchange), AK905 (group), IK502 (set), IK304 (segment) — for findings without their
# own ``x12_code``.
DEFAULT_CODES: dict[Level, dict[str, str]] = {
    Level.INTERCHANGE: {"iea-control": "001", "iea-count": "021", "missing-iea": "023",
                        "truncated": "023", "isa-length": "022", "isa-delimiters": "026",
                        "duplicate-interchange": "025"},
    Level.GROUP: {"ge-control": "4", "ge-count": "5", "missing-ge": "3", "not-835": "1",
                  "version-4010": "2"},
    Level.TRANSACTION: {"missing-se": "2", "se-control": "3", "se-count": "4"},
    Level.SEGMENT: {"unexpected-segment": "2", "bad-segment-id": "1", "empty-segment": "1",
                    "missing-segment": "3"},
}
_ELEMENT_NAME = re.compile(r"[A-Z][A-Z0-9]{1,2}?(\d{2})(?:-(\d{1,2}))?")


def attribute(interchange: ReceivedInterchange, findings: Sequence[Finding]) -> list[Finding]:
    """This interchange's findings, each completed with group, set, positions and code."""
    out = []
    for finding in findings:
        if not interchange.holds(finding):
            continue
        updates: FindingDetails = {}
        number = finding.location.segment_number
        group = _group_of(interchange, finding, number)
        if group is not None and finding.group_control_number is None:
            updates["group_control_number"] = group.control_number
        received = _set_of(group, finding, number) if group is not None else None
        if received is not None and finding.transaction_set is None:
            updates["transaction_set"] = received.control_number
        if received is not None and number is not None and finding.segment_position is None:
            updates["segment_position"] = number - received.first_segment + 1
        match = _ELEMENT_NAME.fullmatch(finding.location.element or "")
        if match and finding.element_position is None:
            updates["element_position"] = int(match[1])
            if match[2]:
                updates["component_position"] = int(match[2])
        default = DEFAULT_CODES[finding.level].get(finding.code)
        if finding.x12_code is None and default is not None:
            updates["x12_code"] = default
        out.append(dataclasses.replace(finding, **updates) if updates else finding)
    return out


def _group_of(interchange: ReceivedInterchange, finding: Finding,
              number: int | None) -> ReceivedGroup | None:
    if finding.level is Level.INTERCHANGE:
        return None
    for group in interchange.groups:
        if finding.group_control_number == group.control_number or (
            finding.group_control_number is None and number is not None
            and _within(number, group.first_segment, group.last_segment)
        ):
            return group
    if len(interchange.groups) == 1 and number is None:
        return interchange.groups[0]
    return None


def _set_of(group: ReceivedGroup, finding: Finding, number: int | None) -> ReceivedSet | None:
    if finding.level not in (Level.TRANSACTION, Level.SEGMENT):
        return None
    for received in group.sets:
        if finding.transaction_set == received.control_number or (
            finding.transaction_set is None and number is not None
            and _within(number, received.first_segment, received.last_segment)
        ):
            return received
    return None


def _within(number: int | None, first: int, last: int | None) -> bool:
    return number is None or (first <= number and (last is None or number <= last))


def _get(elements: Sequence[str], index: int) -> str:
    return elements[index] if index < len(elements) else ""
