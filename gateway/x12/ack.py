"""Acknowledgments we send back to a partner: the 999 (005010X231A1) and the TA1.

We write them ourselves from findings — our structural checks' and pyx12's — rather than use
pyx12's 999 visitor, which truncates the 999 of every 5010 835 (it takes AK203 from ST03,
which the 835 guide does not use). AK203 here is ST03 when the set carried one, else GS08.

* TA1 answers the interchange (ISA/IEA): TA104 A accepted, E accepted with errors, R
  rejected; TA105 the code of the first interchange finding (022 "invalid control structure"
  when a finding names none).
* 999 answers each functional group: AK1 echoes GS01/GS06/GS08; per set AK2, IK3/IK4 for
  each segment/element finding, IK5 A/E/R; AK9 A/E/P/R with the set counts.

A finding's ``x12_code`` becomes TA105, AK905, IK502, IK304 or IK403 depending on its level;
when it has none the defaults below apply. Control numbers (ISA13, GS06) come from a
caller-provided counter, so that production can persist them and tests are deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from gateway.x12.findings import Finding, Level

ACK_VERSION = "005010X231A1"
DEFAULT_TA105 = "022"  # invalid control structure
DEFAULT_IK304 = "8"  # segment has data element errors
DEFAULT_IK403 = "I12"  # implementation pattern match failure (e.g. an amount that does not add up)
DEFAULT_IK502 = "5"  # one or more segments in error


@dataclass(frozen=True)
class AckDelimiters:
    """The delimiters our acknowledgments are written with (ours, not the partner's)."""

    element: str = "*"
    repetition: str = "^"
    component: str = ":"
    terminator: str = "~"
    suffix: str = "\n"


@dataclass(frozen=True)
class ReceivedSet:
    set_id: str  # ST01
    control_number: str  # ST02
    convention: str = ""  # ST03 (the 835 does not send it)


@dataclass(frozen=True)
class ReceivedGroup:
    functional_id: str  # GS01
    sender: str  # GS02
    receiver: str  # GS03
    control_number: str  # GS06
    version: str  # GS08
    sets: tuple[ReceivedSet, ...] = ()
    declared_sets: int | None = None  # GE01; None when the GE is missing or not a number


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


def received_interchanges(segments: Iterable[Sequence[str]]) -> list[ReceivedInterchange]:
    """The envelopes of a file, from its segments as element lists (``elements[0]`` is the id).

    Tolerant on purpose: an acknowledgment is most needed for a broken file, so missing
    elements become ``""`` and a missing GE or IEA still yields what was read.
    """
    result: list[ReceivedInterchange] = []
    isa: Sequence[str] | None = None
    groups: list[ReceivedGroup] = []
    gs: Sequence[str] | None = None
    sets: list[ReceivedSet] = []

    def close_group(ge01: str | None) -> None:
        nonlocal gs, sets
        if gs is not None:
            declared = int(ge01) if ge01 and ge01.isdigit() else None
            groups.append(ReceivedGroup(_get(gs, 1), _get(gs, 2), _get(gs, 3), _get(gs, 6),
                                        _get(gs, 8), tuple(sets), declared))
        gs, sets = None, []

    def close_interchange() -> None:
        nonlocal isa, groups
        close_group(None)
        if isa is not None:
            result.append(ReceivedInterchange(
                _get(isa, 5), _get(isa, 6).rstrip(), _get(isa, 7), _get(isa, 8).rstrip(),
                _get(isa, 9), _get(isa, 10), _get(isa, 13), _get(isa, 15), tuple(groups)))
        isa, groups = None, []

    for elements in segments:
        tag = elements[0]
        if tag == "ISA":
            close_interchange()
            isa = list(elements)
        elif tag == "GS":
            close_group(None)
            gs = list(elements)
        elif tag == "ST":
            sets.append(ReceivedSet(_get(elements, 1), _get(elements, 2), _get(elements, 3)))
        elif tag == "GE":
            close_group(_get(elements, 1))
        elif tag == "IEA":
            close_interchange()
    close_interchange()
    return result


def write_ta1(interchange: ReceivedInterchange, findings: Sequence[Finding], *,
              control_numbers: Callable[[], int], now: datetime,
              delimiters: AckDelimiters = AckDelimiters()) -> str:
    """A TA1 interchange (ISA, TA1, IEA with no groups) answering ``interchange``."""
    mine = [f for f in findings if f.level is Level.INTERCHANGE]
    fatal = [f for f in mine if f.fatal]
    status = "R" if fatal else "E" if mine else "A"
    code = ((fatal or mine)[0].x12_code or DEFAULT_TA105) if mine else "000"
    out = _Writer(delimiters)
    icn = f"{control_numbers():09d}"
    out.isa(interchange, icn, now)
    out.segment("TA1", _nine(interchange.control_number), interchange.date or "000000",
                interchange.time or "0000", status, code)
    out.segment("IEA", "0", icn)
    return out.text()


def write_999(interchange: ReceivedInterchange, findings: Sequence[Finding], *,
              control_numbers: Callable[[], int], now: datetime,
              delimiters: AckDelimiters = AckDelimiters()) -> str:
    """A 999 interchange with one ST*999 per functional group of ``interchange``."""
    if not interchange.groups:
        raise ValueError("a 999 answers functional groups and the interchange has none")
    out = _Writer(delimiters)
    icn, gcn = f"{control_numbers():09d}", str(control_numbers())
    out.isa(interchange, icn, now)
    first = interchange.groups[0]
    out.segment("GS", "FA", first.receiver, first.sender, now.strftime("%Y%m%d"),
                now.strftime("%H%M"), gcn, "X", ACK_VERSION)
    for number, group in enumerate(interchange.groups, 1):
        _write_999_set(out, group, _for_group(findings, group, interchange), f"{number:04d}")
    out.segment("GE", str(len(interchange.groups)), gcn)
    out.segment("IEA", "1", icn)
    return out.text()


def group_status(received: int, accepted: int, findings: Sequence[Finding]) -> str:
    """AK901: R rejected, P partially accepted, E accepted with errors noted, A accepted."""
    group_fatal = any(f.fatal and f.level is Level.GROUP for f in findings)
    if group_fatal or (received and not accepted):
        return "R"
    if accepted < received:
        return "P"
    return "E" if findings else "A"


def _write_999_set(out: _Writer, group: ReceivedGroup, findings: list[Finding], st02: str) -> None:
    start = out.count
    out.segment("ST", "999", st02, ACK_VERSION)
    out.segment("AK1", group.functional_id, group.control_number, group.version)
    accepted = 0
    for received in group.sets:
        accepted += _write_set_response(out, group, received, findings) in ("A", "E")
    status = group_status(len(group.sets), accepted, findings)
    codes = [f.x12_code for f in findings if f.level is Level.GROUP and f.x12_code][:5]
    declared = group.declared_sets if group.declared_sets is not None else len(group.sets)
    out.segment("AK9", status, str(declared), str(len(group.sets)),
                str(0 if status == "R" else accepted), *codes)
    out.segment("SE", str(out.count - start + 1), st02)


def _write_set_response(out: _Writer, group: ReceivedGroup, received: ReceivedSet,
                        findings: list[Finding]) -> str:
    """AK2, IK3 (+ IK4s) per segment finding, IK5; returns the IK501 status."""
    mine = [f for f in findings if f.transaction_set == received.control_number
            and f.level in (Level.TRANSACTION, Level.SEGMENT)]
    out.segment("AK2", received.set_id, received.control_number,
                received.convention or group.version)
    previous: tuple[str, int | None] | None = None
    for f in mine:
        if f.level is not Level.SEGMENT:
            continue
        seg_id = (f.location.segment_id or "")[:3]
        position = str(f.segment_position) if f.segment_position else ""
        if f.element_position is None:
            out.segment("IK3", seg_id, position, f.loop_id or "", f.x12_code or DEFAULT_IK304)
            previous = None
            continue
        if previous != (seg_id, f.segment_position):  # one IK3, then an IK4 per element
            out.segment("IK3", seg_id, position, f.loop_id or "", DEFAULT_IK304)
            previous = (seg_id, f.segment_position)
        where = str(f.element_position)
        if f.component_position:
            where += f"{out.delimiters.component}{f.component_position}"
        out.segment("IK4", where, "", f.x12_code or DEFAULT_IK403)
    fatal = [f for f in mine if f.fatal]
    status = "R" if fatal else "E" if mine else "A"
    codes: list[str] = []
    for f in fatal or mine:
        code = f.x12_code if f.level is Level.TRANSACTION and f.x12_code else DEFAULT_IK502
        if code not in codes:
            codes.append(code)
    out.segment("IK5", status, *codes[:5])
    return status


def _for_group(findings: Sequence[Finding], group: ReceivedGroup,
               interchange: ReceivedInterchange) -> list[Finding]:
    """The findings of one group: those naming its GS06 (or any, when it is the only one)."""
    only = len(interchange.groups) == 1
    return [f for f in findings if f.level is not Level.INTERCHANGE and (
        f.group_control_number == group.control_number
        or (f.group_control_number is None and only))]


class _Writer:
    """Collects the acknowledgment's segments (small: a few per set received)."""

    def __init__(self, delimiters: AckDelimiters) -> None:
        self.delimiters = delimiters
        self._parts: list[str] = []
        self.count = 0

    def segment(self, segment_id: str, *elements: str) -> None:
        sep = self.delimiters.element
        self._parts.append(sep.join((segment_id, *elements)).rstrip(sep))
        self.count += 1

    def isa(self, answered: ReceivedInterchange, icn: str, now: datetime) -> None:
        """Our ISA: from the receiver of ``answered`` back to its sender."""
        d = self.delimiters
        self._parts.append(d.element.join((
            "ISA", "00", " " * 10, "00", " " * 10,
            (answered.receiver_qualifier or "ZZ")[:2], answered.receiver_id[:15].ljust(15),
            (answered.sender_qualifier or "ZZ")[:2], answered.sender_id[:15].ljust(15),
            now.strftime("%y%m%d"), now.strftime("%H%M"), d.repetition, "00501", icn, "0",
            answered.usage if answered.usage in ("P", "T") else "P", d.component,
        )))
        self.count += 1

    def text(self) -> str:
        end = self.delimiters.terminator + self.delimiters.suffix
        return end.join(self._parts) + end


def _get(elements: Sequence[str], index: int) -> str:
    return elements[index] if index < len(elements) else ""


def _nine(control_number: str) -> str:
    """TA101 is exactly nine digits; a malformed ISA13 is echoed as best we can."""
    digits = control_number.strip()
    return digits.zfill(9)[-9:] if digits.isdigit() else "000000000"
