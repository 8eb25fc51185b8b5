"""Checks: what is wrong with a transmission or batch, as findings with precise locations.

Parsing never stops at a defect it can step over: the reader attaches findings to the
document and carries on, so one bad claim does not hold up a file of 100,000. A *fatal*
finding means the document cannot be trusted (a strict reader raises it as an
:class:`~gateway.errors.InputError`); the others are warnings an operator should see.
Every finding names the batch record, segment, field and byte offset in the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from gateway.errors import InputError, Location
from gateway.ncpdp.fields import dictionary
from gateway.ncpdp.transmission import VERSIONS, Transmission, field_offset

# 103-A3 values from the reference (E1 eligibility, B billing, P prior auth, N information
# reporting, C controlled substance reporting, S service billing, D1 predetermination).
TRANSACTION_CODES = frozenset(
    "E1 B1 B2 B3 P1 P2 P3 P4 N1 N2 N3 C1 C2 C3 S1 S2 S3 D1".split()  # noqa: SIM905 - a code list
)

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
    at = Location(where.file, record_number=where.record_number, byte_offset=base_offset)
    length = len(tx.header)
    if length != tx.header_length:
        code = "truncated-header" if length < tx.header_length else "header-length"
        what = f"{tx.kind} header is {length} characters, expected {tx.header_length}"
        findings.append(Finding(code, what, at))
    header = tx.header_fields()
    if header["transaction_code"] not in TRANSACTION_CODES:
        what = f"transaction code {header['transaction_code']!r} is not a known 103-A3 value"
        findings.append(Finding("unknown-transaction-code", what, at))
    if header["version"] not in VERSIONS:
        what = f"version {header['version']!r} is not a known 102-A2 value"
        findings.append(Finding("version", what, at, fatal=False))
    if header["transaction_count"] != str(len(tx.groups)):
        what = (
            f"header transaction count {header['transaction_count']!r} but "
            f"{len(tx.groups)} transaction groups follow"
        )
        findings.append(Finding("transaction-count", what, at, fatal=False))
    findings.extend(_body_findings(tx, where, base_offset))
    return findings


_NUMERIC, _SIGNED, _DATE = 0, 1, 2
_KINDS = {"int": _NUMERIC, "decimal": _NUMERIC, "signed": _SIGNED, "date": _DATE}
# field id -> kind, for the fields whose format can be wrong (text can't)
_CHECKED = {d.id: _KINDS[d.format.kind] for d in dictionary().values() if d.format.kind in _KINDS}
_SIGN_CHARACTERS = frozenset("{ABCDEFGHI}JKLMNOPQR0123456789")


def _body_findings(tx: Transmission, where: Location, base: int) -> list[Finding]:
    """Segment ids, text after GS, and every known field's value against its format.

    This loop runs for every field of every claim, so it is written flat: one dict lookup
    per field, ``str.isdecimal`` (only ASCII 0-9 are decimal in Latin-1) for the test.
    """
    findings: list[Finding] = []
    checked, signs = _CHECKED.get, _SIGN_CHARACTERS
    placed = [(None, tx.segments)] + [(g, group.segments) for g, group in enumerate(tx.groups)]
    for g, segments in placed:
        if g is not None and tx.groups[g].lead:
            at = Location(where.file, record_number=where.record_number, byte_offset=base)
            what = "characters between <GS> and the first segment of the transaction"
            findings.append(Finding("stray-text", what, at, fatal=False))
        for i, segment in enumerate(segments):
            if segment[0] or len(segment) < 2 or segment[1][:2] != "AM" or len(segment[1]) != 4:
                what = "segment does not start with <FS>AM and a 2-character code"
                findings.append(Finding("segment-id", what, _at(tx, where, base, g, i, 0)))
            for j, part in enumerate(segment[2:], 2):
                kind = checked(part[:2])
                if kind is None:
                    continue  # text or unknown (kept verbatim): nothing to check
                value = part[2:]
                if not value or _clean(kind, value, signs):
                    continue  # sent blank, or clean: the common cases, decided inline
                problem = _problem(kind, value)
                if problem:
                    code = "malformed-overpunch" if kind == _SIGNED else "field-format"
                    what = f"field {part[:2]} value {value!r} {problem}"
                    at = _at(tx, where, base, g, i, j)
                    findings.append(Finding(code, what, at, fatal=kind == _SIGNED))
    return findings


def _clean(kind: int, value: str, signs: frozenset[str]) -> bool:
    """The fast test of a non-blank value; False sends it to :func:`_problem` for the why."""
    if kind == _NUMERIC:
        return value.isdecimal()
    if kind == _SIGNED:
        return value[-1] in signs and (value[:-1] or "0").isdecimal()
    return (
        len(value) == 8 and value.isdecimal() and "01" <= value[4:6] <= "12"
        and "01" <= value[6:8] <= "28"
    )  # fmt: skip


def _problem(kind: int, value: str) -> str | None:
    """Why a non-blank value does not fit its format, or None when it does."""
    if kind == _SIGNED:
        head = value[:-1]
        if value[-1] in _SIGN_CHARACTERS and (not head or head.isdecimal()):
            return None
        return "is not a signed overpunch amount"
    if kind == _DATE:
        return (
            None
            if len(value) == 8 and value.isdecimal() and _is_date(value)
            else ("is not a CCYYMMDD date")
        )
    hint = " ('>' where a field separator <FS> belongs?)" if ">" in value else ""
    return f"is not numeric{hint}"


def _at(tx: Transmission, where: Location, base: int, g: int | None, i: int, j: int) -> Location:
    segments = tx.segments if g is None else tx.groups[g].segments
    return Location(
        where.file,
        record_number=where.record_number,
        segment_id=segments[i].code or None,
        field_id=segments[i][j][:2] if j >= 2 else None,
        byte_offset=base + field_offset(tx, g, i, j) - (1 if j == 0 else 0),
    )


def _is_date(value: str) -> bool:
    if "01" <= value[4:6] <= "12" and "01" <= value[6:8] <= "28":
        return True  # every month has these days; only the rest needs the calendar
    try:
        date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        return False
    return True
