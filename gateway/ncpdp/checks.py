"""Checks: what is wrong with a transmission or batch, as findings with precise locations.

Parsing never stops at a defect it can step over: the reader attaches findings to the
document and carries on, so one bad claim does not hold up a file of 100,000. A *fatal*
finding means the document cannot be trusted (a strict reader raises it as an
:class:`~gateway.errors.InputError`); the others are warnings an operator should see.
Every finding names the batch record, segment, field and byte offset in the file.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from gateway.errors import InputError, Location
from gateway.ncpdp.fields import dictionary
from gateway.ncpdp.overpunch import NEGATIVE, POSITIVE
from gateway.ncpdp.transmission import VERSIONS, Transmission, field_offset

# 103-A3 values from the reference (E1 eligibility, B billing, P prior auth, N information
# reporting, C controlled substance reporting, S service billing, D1 predetermination).
TRANSACTION_CODES = frozenset(
    "E1 B1 B2 B3 P1 P2 P3 P4 N1 N2 N3 C1 C2 C3 S1 S2 S3 D1".split()  # noqa: SIM905 - a code list
)
_SIGNS = frozenset(POSITIVE + NEGATIVE + "0123456789")

FIXES = {
    "truncated-header": "the transmission was cut short; ask the sender to resend the file",
    "header-length": "the fixed header must be 56 (request) or 31 (response) characters; "
    "ask the sender to correct the header",
    "unknown-transaction-code": "use a D.0 transaction code (B1, B2, B3, E1, ...) in 103-A3",
    "transaction-count": "109-A9 should equal the number of transactions (GS groups)",
    "malformed-overpunch": "the last character of a signed amount must be a digit or one of "
    "{ A-I } J-R; ask the sender to correct the amount",
    "field-format": "correct the value to the field's format (see gateway/ncpdp/fields.csv)",
    "segment-id": "every segment must start with <FS>AM and a 2-character segment code",
    "stray-text": "remove the characters between the separator and the next segment",
    "batch-number": "the trailer's 806-5C must repeat the header's batch number",
    "record-count": "751 in the trailer counts every record including header and trailer",
    "missing-trailer": "the file ended without a 99 trailer; ask the sender to resend it",
}


@dataclass(frozen=True)
class Finding:
    """One defect. ``code`` is short and stable (``record-count``, ``malformed-overpunch``...)."""

    code: str
    message: str
    location: Location
    fatal: bool = True

    def to_error(self) -> InputError:
        return InputError(
            self.message, code=self.code, where=self.location, fix=FIXES.get(self.code, "")
        )


def check_transmission(tx: Transmission, where: Location, base_offset: int) -> list[Finding]:
    """Header, transaction code, count vs groups, segment ids and every field's format.

    ``where`` carries file and record number; ``base_offset`` is the file offset of the
    transmission's first character, so findings point at bytes in the file.
    """
    findings: list[Finding] = []
    at = replace(where, byte_offset=base_offset)
    length = len(tx.header)
    if length != tx.header_length:
        code = "truncated-header" if length < tx.header_length else "header-length"
        findings.append(
            Finding(
                code, f"{tx.kind} header is {length} characters, expected {tx.header_length}", at
            )
        )
    code = tx.transaction_code
    if code not in TRANSACTION_CODES:
        findings.append(
            Finding(
                "unknown-transaction-code",
                f"transaction code {code!r} is not a known 103-A3 value",
                at,
            )
        )
    version = tx.header_fields()["version"]
    if version not in VERSIONS:
        findings.append(
            Finding("version", f"version {version!r} is not a known 102-A2 value", at, fatal=False)
        )
    count = tx.header_fields()["transaction_count"]
    if count != str(len(tx.groups)):
        findings.append(
            Finding(
                "transaction-count",
                f"header transaction count {count!r} but "
                f"{len(tx.groups)} transaction groups follow",
                at,
                fatal=False,
            )
        )
    findings.extend(_segment_findings(tx, where, base_offset))
    return findings


def _segment_findings(tx: Transmission, where: Location, base: int) -> list[Finding]:
    findings: list[Finding] = []
    placed = [(None, i, s) for i, s in enumerate(tx.segments)]
    for g, group in enumerate(tx.groups):
        if group.lead:
            offset = (
                base + field_offset(tx, g, 0, 0) - 1 - len(group.lead) if group.segments else base
            )
            findings.append(
                Finding(
                    "stray-text",
                    f"{len(group.lead)} characters between <GS> and the first segment",
                    replace(where, byte_offset=offset),
                    fatal=False,
                )
            )
        placed.extend((g, i, s) for i, s in enumerate(group.segments))
    for g, i, segment in placed:
        seg_id = segment.code
        if not seg_id or segment.parts[0]:
            loc = replace(
                where, segment_id=seg_id or None, byte_offset=base + field_offset(tx, g, i, 0) - 1
            )
            findings.append(
                Finding("segment-id", "segment does not start with <FS>AM and a code", loc)
            )
        for part_index, message, code in _field_defects(segment.parts):
            part = segment.parts[part_index]
            loc = replace(
                where,
                segment_id=seg_id or None,
                field_id=part[:2],
                byte_offset=base + field_offset(tx, g, i, part_index),
            )
            findings.append(Finding(code, message, loc, fatal=code == "malformed-overpunch"))
    return findings


def _checked_kinds() -> dict[str, tuple[str, int]]:
    return {
        d.id: (d.format.kind, d.format.places)
        for d in dictionary().values()
        if d.format.kind != "text"
    }


_CHECKED = _checked_kinds()


def _field_defects(parts: tuple[str, ...]) -> list[tuple[int, str, str]]:
    """(part index, message, code) for each value that does not fit its dictionary format."""
    defects = []
    for index in range(2, len(parts)):
        part = parts[index]
        kind = _CHECKED.get(part[:2])
        value = part[2:]
        if kind is None or not value:
            continue  # text, unknown (kept verbatim) or sent blank: nothing to check
        problem = _problem(kind[0], value)
        if problem:
            code = "malformed-overpunch" if kind[0] == "signed" else "field-format"
            defects.append((index, f"field {part[:2]} value {value!r} {problem}", code))
    return defects


def _problem(kind: str, value: str) -> str | None:
    if kind == "signed":
        head = value[:-1]
        if value[-1] not in _SIGNS or (head and not (head.isascii() and head.isdigit())):
            return "is not a signed overpunch amount"
        return None
    if not (value.isascii() and value.isdigit()):
        hint = " ('>' where a field separator <FS> belongs?)" if ">" in value else ""
        return f"is not numeric{hint}"
    if kind == "date":
        try:
            date(int(value[:4]), int(value[4:6]), int(value[6:8]))
        except ValueError:
            return "is not a CCYYMMDD date"
        if len(value) != 8:
            return "is not a CCYYMMDD date"
    return None
