"""Acknowledgments we send back to a partner: the 999 (005010X231A1) and the TA1.

We write them ourselves from findings — the structural checks' and the TR3 validator's
(gateway.x12.tr3) — rather than use pyx12's 999 visitor, which truncates the 999 of every
5010 835 (it takes AK203 from ST03, which the 835 guide does not use). AK203 here is ST03
when the set carried one, else GS08.

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

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from gateway.x12.read.received import ReceivedGroup, ReceivedInterchange, ReceivedSet, attribute
from gateway.x12.syntax.findings import Finding, Level

ACK_VERSION = "005010X231A1"
DEFAULT_TA105 = "022"  # invalid control structure
DEFAULT_IK304 = "8"  # segment has data element errors
DEFAULT_IK403 = "I12"  # implementation pattern match failure (e.g. an amount that does not add up)
DEFAULT_IK502 = "5"  # one or more segments in error
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")


@dataclass(frozen=True)
class AckDelimiters:
    """The delimiters our acknowledgments are written with (ours, not the partner's)."""

    element: str = "*"
    repetition: str = "^"
    component: str = ":"
    terminator: str = "~"
    suffix: str = "\n"


def write_ta1(interchange: ReceivedInterchange, findings: Sequence[Finding], *,
              control_numbers: Callable[[], int], now: datetime,
              delimiters: AckDelimiters = AckDelimiters()) -> str:
    """A TA1 interchange (ISA, TA1, IEA with no groups) answering ``interchange``."""
    mine = [f for f in attribute(interchange, findings) if f.level is Level.INTERCHANGE]
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
    findings = attribute(interchange, findings)
    out = _Writer(delimiters)
    icn, gcn = f"{control_numbers():09d}", str(control_numbers())
    out.isa(interchange, icn, now)
    first = interchange.groups[0]
    out.segment("GS", "FA", first.receiver, first.sender, now.strftime("%Y%m%d"),
                now.strftime("%H%M"), gcn, "X", ACK_VERSION)
    for number, group in enumerate(interchange.groups, 1):
        mine = [f for f in findings if f.group_control_number == group.control_number]
        _write_999_set(out, group, mine, f"{number:04d}")
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
    _write_segment_notes(out, mine)
    fatal = [f for f in mine if f.fatal]
    status = "R" if fatal else "E" if mine else "A"
    codes: list[str] = []
    for f in fatal or mine:
        code = f.x12_code if f.level is Level.TRANSACTION and f.x12_code else DEFAULT_IK502
        if code not in codes:
            codes.append(code)
    out.segment("IK5", status, *codes[:5])
    return status


def _write_segment_notes(out: _Writer, findings: list[Finding]) -> None:
    """One IK3 per segment in error (in segment order), then an IK4 per element in error.

    Findings of one segment are gathered first, wherever they stand in the list (the
    structural checks' and the guide's findings of a segment are not adjacent). IK303 is the
    guide's loop (element 447 holds 4 characters: 1000A/1000B are sent as their level,
    1000; the IK301/IK302 pair already names the segment exactly). An IK4 whose defect was
    triggered by another element of the segment (a syntax rule such as "CAS06 requires
    CAS05") is followed by the element context CTX the 999 guide asks for: CTX01 "SITUATIONAL
    TRIGGER", the segment, its position and loop, and the triggering element (CTX05).
    """
    notes: dict[tuple[int, str], list[Finding]] = {}
    for f in findings:
        seg_id = (f.location.segment_id or "")[:3]
        if not _SEGMENT_ID.fullmatch(seg_id) or not f.segment_position:
            continue  # nothing an IK3 can name (an empty segment): the IK5 code still tells
        if f.level is Level.TRANSACTION and seg_id in ("ST", "SE"):
            continue
        notes.setdefault((f.segment_position, seg_id), []).append(f)
    comp = out.delimiters.component
    for (position, seg_id), mine in sorted(notes.items()):
        loop = next((f.loop_id for f in mine if f.loop_id), "")[:4]
        whole = [f for f in mine if f.level is Level.TRANSACTION or f.element_position is None]
        code = next((f.x12_code for f in whole if f.level is Level.SEGMENT and f.x12_code),
                    DEFAULT_IK304)
        out.segment("IK3", seg_id, str(position), loop, code)
        for f in mine:
            if f in whole:
                continue  # a set-level defect found here (a claim that does not balance)
            where = str(f.element_position)
            if f.component_position:
                where += f"{comp}{f.component_position}"
            out.segment("IK4", where, "", f.x12_code or DEFAULT_IK403)
            if f.trigger_element:
                out.segment("CTX", "SITUATIONAL TRIGGER", seg_id, str(position), loop,
                            str(f.trigger_element))


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


def _nine(control_number: str) -> str:
    """TA101 is exactly nine digits; a malformed ISA13 is echoed as best we can."""
    digits = control_number.strip()
    return digits.zfill(9)[-9:] if digits.isdigit() else "000000000"
