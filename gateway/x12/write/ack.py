"""Acknowledgments we send back to a partner: the 999 (005010X231A1) and the TA1.

We write them ourselves from findings — the structural checks' and the TR3 validator's
(gateway.x12.tr3) — rather than use pyx12's 999 visitor, which truncates the 999 of every
5010 835 (it takes AK203 from ST03, which the 835 guide does not use). AK203 here is ST03
when the set carried one, else GS08.

* TA1 answers one interchange (ISA/IEA): TA104 A accepted, E accepted with errors, R
  rejected; TA105 the code of the first interchange finding (022 "invalid control structure"
  when a finding names none). An interchange whose envelope is rejected gets a TA1 even when
  the partner asked for 999s (:func:`acknowledgments`): a 999 cannot say the ISA was bad.
* 999 answers a received *file*: one interchange, one GS*FA, one ST*999 per functional group
  of every interchange of the file (a 2,000-interchange file gets one 999, not 2,000). AK1
  echoes GS01/GS06/GS08; per set AK2, IK3/IK4 for each segment/element finding, IK5 A/E/R;
  AK9 A/E/P/R whose counts are the IK5s written (received = AK2s, accepted = IK5 A or E).
  A set is accepted only when nothing fatal is known of it, of its group or of its
  interchange: a truncated file, a set without SE, a group without GE never get an A.

A finding's ``x12_code`` becomes TA105, AK905, IK502, IK304 or IK403 depending on its level;
when it has none the defaults below apply. ISA13/GS06 come from the caller's
:class:`~gateway.x12.write.control_numbers.ControlNumbers` (per destination, remembered per
``key``), so a redone acknowledgment is the same acknowledgment and two files never share
a number. Every value echoed from the received file is made ASCII and fitted to its element
(a ``µ`` in ISA09 must not break our answer to it).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from gateway.errors import Location
from gateway.x12.read.checks import VERSION_835
from gateway.x12.read.received import ReceivedGroup, ReceivedInterchange, ReceivedSet, attribute
from gateway.x12.syntax.delimiters import Delimiters
from gateway.x12.syntax.findings import Finding, Level
from gateway.x12.write.control_numbers import ControlNumbers
from gateway.x12.write.envelope import isa_segment

ACK_VERSION = "005010X231A1"
ACK_DELIMITERS = Delimiters("*", ":", "^", "~", "\n")  # ours, not the partner's
DEFAULT_TA105 = "022"  # invalid control structure
DEFAULT_IK304 = "8"  # segment has data element errors
DEFAULT_IK403 = "I12"  # implementation pattern match failure (e.g. an amount that does not add up)
DEFAULT_IK502 = "5"  # one or more segments in error
IK502_TRAILER_MISSING = "2"
AK905_TRAILER_MISSING = "3"
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")
# AK101: the functional groups the 999 guide (005010X231A1) acknowledges.
ACKNOWLEDGEABLE = frozenset({"BE", "HB", "HC", "HI", "HN", "HP", "HR", "HS", "RA"})


@dataclass(frozen=True)
class Acknowledgment:
    """One acknowledgment to send: ``kind`` ``999`` or ``ta1``, its text, and whether it
    accepts everything it answers."""

    kind: str
    text: str
    accepted: bool


def acknowledgments(interchanges: Sequence[ReceivedInterchange], findings: Sequence[Finding],
                    kind: str, *, numbers: ControlNumbers, destination: str, key: str,
                    now: datetime) -> list[Acknowledgment]:
    """Everything a received file is answered with, when the partner asked for ``kind``.

    ``ta1``: one TA1 per interchange. ``999``: one 999 for the whole file (its groups), then
    a TA1 for each interchange whose envelope is rejected (ISA length, ISA/IEA mismatch,
    truncation...).
    ``key`` identifies the file (``ack:<file id>``): each acknowledgment's control number is
    assigned under ``key`` plus its kind and interchange.
    """
    findings = [*findings, *(f for i in interchanges for f in unanswerable_groups(i))]
    out: list[Acknowledgment] = []
    answerable = [a for a in map(_acknowledgeable, interchanges) if a.groups]
    if kind == "999" and answerable:
        text = write_999(answerable, findings, numbers=numbers, destination=destination,
                         key=f"{key}:999", now=now)
        out.append(Acknowledgment("999", text, not any(f.fatal for f in findings)))
    for n, interchange in enumerate(interchanges):
        mine = [f for f in findings if interchange.holds(f)]
        envelope_rejected = rejected_envelope(mine)
        if kind == "ta1" or envelope_rejected:
            text = write_ta1(interchange, mine, numbers=numbers, destination=destination,
                             key=f"{key}:ta1:{n}", now=now)
            out.append(Acknowledgment("ta1", text, not envelope_rejected))
    return out


def unanswerable_groups(interchange: ReceivedInterchange) -> list[Finding]:
    """A group a 999 cannot answer — its GS01 is no functional group code the 999 guide
    acknowledges (``GS*TEST*TEST``) — makes the interchange's content invalid: TA105 024."""
    return [Finding("invalid-group", f"GS01 {_text(g.functional_id)[:8]!r} is not a functional "
                    "group a 999 can acknowledge", Level.INTERCHANGE,
                    Location(segment_number=g.first_segment, segment_id="GS"), x12_code="024")
            for g in interchange.groups if g.functional_id not in ACKNOWLEDGEABLE]


def _acknowledgeable(interchange: ReceivedInterchange) -> ReceivedInterchange:
    groups = tuple(g for g in interchange.groups if g.functional_id in ACKNOWLEDGEABLE)
    return dataclasses.replace(interchange, groups=groups)


def rejected_envelope(findings: Sequence[Finding]) -> bool:
    """A fatal interchange-level finding: the envelope (ISA/IEA) itself is rejected."""
    return any(f.fatal and f.level is Level.INTERCHANGE for f in findings)


def write_ta1(interchange: ReceivedInterchange, findings: Sequence[Finding], *,
              numbers: ControlNumbers, destination: str, key: str, now: datetime,
              delimiters: Delimiters = ACK_DELIMITERS) -> str:
    """A TA1 interchange (ISA, TA1, IEA with no groups) answering ``interchange``."""
    mine = [f for f in attribute(interchange, findings) if f.level is Level.INTERCHANGE]
    fatal = [f for f in mine if f.fatal]
    status = "R" if fatal else "E" if mine else "A"
    code = ((fatal or mine)[0].x12_code or DEFAULT_TA105) if mine else "000"
    out = _Writer(delimiters)
    number = numbers.assign(destination, key)
    out.isa(interchange, number, now)
    out.segment("TA1", _nine(interchange.control_number),
                _digits(interchange.date, 6, now, "%y%m%d"),
                _digits(interchange.time, 4, now, "%H%M"), status, code)
    out.segment("IEA", "0", f"{number:09d}")
    return out.text()


def write_999(interchanges: ReceivedInterchange | Sequence[ReceivedInterchange],
              findings: Sequence[Finding], *, numbers: ControlNumbers, destination: str,
              key: str, now: datetime, delimiters: Delimiters = ACK_DELIMITERS) -> str:
    """One 999 interchange with one ST*999 per functional group of ``interchanges`` (every
    interchange of one received file), addressed back to the first one's sender."""
    if isinstance(interchanges, ReceivedInterchange):
        interchanges = [interchanges]
    groups = [(i, g) for i in interchanges for g in i.groups]
    if not groups:
        raise ValueError("a 999 answers functional groups and the file has none")
    out = _Writer(delimiters)
    number = numbers.assign(destination, key)
    first_interchange, first = groups[0]
    out.isa(first_interchange, number, now)
    # GS02/GS03 swap the received group's ids; a GS without them (GS*TEST*TEST) falls back
    # to the interchange's, as both are required in our GS.
    out.segment("GS", "FA", _text(first.receiver) or _text(first_interchange.receiver_id),
                _text(first.sender) or _text(first_interchange.sender_id),
                now.strftime("%Y%m%d"), now.strftime("%H%M"), str(number), "X", ACK_VERSION)
    st = 0
    for interchange in interchanges:
        attributed = attribute(interchange, findings)
        envelope_rejected = rejected_envelope(attributed)
        for group in interchange.groups:
            st += 1
            mine = [f for f in attributed if f.group_control_number == group.control_number
                    and f.level is not Level.INTERCHANGE]
            _write_999_set(out, group, mine, f"{st:04d}", envelope_rejected)
    out.segment("GE", str(st), str(number))
    out.segment("IEA", "1", f"{number:09d}")
    return out.text()


def group_status(received: int, accepted: int, findings: Sequence[Finding], *,
                 rejected: bool = False) -> str:
    """AK901: R rejected, P partially accepted, E accepted with errors noted, A accepted."""
    group_fatal = rejected or any(f.fatal and f.level is Level.GROUP for f in findings)
    if group_fatal or (received and not accepted):
        return "R"
    if accepted < received:
        return "P"
    return "E" if findings else "A"


def _write_999_set(out: _Writer, group: ReceivedGroup, findings: list[Finding], st02: str,
                   envelope_rejected: bool) -> None:
    start = out.count
    out.segment("ST", "999", st02, ACK_VERSION)
    out.segment("AK1", group.functional_id, _control(group.control_number),
                _version(group.version))
    group_codes = [f.x12_code for f in findings if f.level is Level.GROUP and f.x12_code]
    if group.last_segment is None:
        group_codes.append(AK905_TRAILER_MISSING)
    group_fatal = (envelope_rejected or group.last_segment is None
                   or any(f.fatal and f.level is Level.GROUP for f in findings))
    statuses = [_write_set_response(out, group, received, findings, group_fatal)
                for received in group.sets]
    accepted = sum(status in ("A", "E") for status in statuses)
    status = group_status(len(statuses), accepted, findings, rejected=group_fatal)
    declared = group.declared_sets if group.declared_sets is not None else len(group.sets)
    out.segment("AK9", status, str(declared), str(len(statuses)), str(accepted),
                *list(dict.fromkeys(group_codes))[:5])
    out.segment("SE", str(out.count - start + 1), st02)


def _write_set_response(out: _Writer, group: ReceivedGroup, received: ReceivedSet,
                        findings: list[Finding], group_rejected: bool) -> str:
    """AK2, IK3 (+ IK4s) per segment finding, IK5; returns the IK501 status. A set of a
    rejected group (or envelope) is rejected too, and a set without SE is never accepted."""
    mine = [f for f in findings if f.transaction_set == received.control_number
            and f.level in (Level.TRANSACTION, Level.SEGMENT)]
    out.segment("AK2", _text(received.set_id)[:3] or "835", _control(received.control_number),
                _version(received.convention or group.version))
    _write_segment_notes(out, mine)
    fatal = [f for f in mine if f.fatal]
    codes: list[str] = []
    if received.last_segment is None:
        codes.append(IK502_TRAILER_MISSING)
    for f in fatal or mine:
        code = f.x12_code if f.level is Level.TRANSACTION and f.x12_code else DEFAULT_IK502
        if code not in codes:
            codes.append(code)
    rejected = bool(fatal) or group_rejected or received.last_segment is None
    status = "R" if rejected else "E" if mine else "A"
    if status != "A" and not codes:
        codes.append(DEFAULT_IK502)
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

    def __init__(self, delimiters: Delimiters) -> None:
        self.delimiters = delimiters
        self._parts: list[str] = []
        self.count = 0

    def segment(self, segment_id: str, *elements: str) -> None:
        sep = self.delimiters.element
        self._parts.append(sep.join((segment_id, *elements)).rstrip(sep))
        self.count += 1

    def isa(self, answered: ReceivedInterchange, number: int, now: datetime) -> None:
        """Our ISA: from the receiver of ``answered`` back to its sender."""
        d = self.delimiters
        self._parts.append(isa_segment(
            d, (_text(answered.receiver_qualifier)[:2] or "ZZ", _text(answered.receiver_id)),
            (_text(answered.sender_qualifier)[:2] or "ZZ", _text(answered.sender_id)),
            now.strftime("%y%m%d"), now.strftime("%H%M"), d.repetition or "^", "00501", number,
            answered.usage if answered.usage in ("P", "T") else "P",
        ).removesuffix(d.end))
        self.count += 1

    def text(self) -> str:
        end = self.delimiters.end
        return end.join(self._parts) + end


def _text(value: str) -> str:
    """A value echoed from the received file, made safe for our acknowledgment: ASCII only
    and none of our delimiters (they would shift every element after it)."""
    cleaned = value.encode("ascii", "replace").decode("ascii")
    for delimiter in "*:^~\n\r":
        cleaned = cleaned.replace(delimiter, " ")
    return cleaned.strip()


def _control(value: str) -> str:
    """A group or set control number to echo (AK102 1-9 digits, AK202 4-9 characters)."""
    text = _text(value)
    return text or "0"


def _version(value: str) -> str:
    """AK103/AK203 (required): the GS08/ST03 received, or — when the sender left it out —
    the 835 guide the set was checked against."""
    return _text(value) or VERSION_835


def _digits(value: str, width: int, now: datetime, fmt: str) -> str:
    """TA102/TA103 echo ISA09/ISA10; one that is not ``width`` ASCII digits (the TA105 says
    why) is replaced by ours, since the element must be a date or time."""
    if len(value) == width and value.isascii() and value.isdigit():
        return value
    return now.strftime(fmt)


def _nine(control_number: str) -> str:
    """TA101 is exactly nine digits; a malformed ISA13 is echoed as best we can."""
    digits = control_number.strip()
    return digits.zfill(9)[-9:] if digits.isascii() and digits.isdigit() else "000000000"
