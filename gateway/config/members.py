"""The member roster: the PSAO's pharmacies, one CSV row each (``partners/members.csv``).

A PSAO with thousands of members edits one spreadsheet, so the roster is a CSV with a header:

    pharmacy_id,name,npi,ncpdp_id,tin,active,destination,formats

``destination`` says where the pharmacy's files go: ``folder:/srv/pharmacies/1000013/inbox`` or
``sftp:<transport-id>:/inbox``. ``formats`` lists what the pharmacy wants, separated by ``|``
(``835|csv|xml|json``). Loading checks every row (duplicates, NPI check digit, TIN length,
unknown formats and destination kinds) and reports all problems at once; the result is indexed
by NPI, NCPDP id and TIN so routing a 5,000-member roster is a dictionary lookup.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from gateway.config.destination import Destination, check_destination
from gateway.config.destination import parse_destination as parse_destination
from gateway.config.problems import Problems
from gateway.errors import ConfigError

FORMATS = ("835", "csv", "json", "xml")
COLUMNS = ("pharmacy_id", "name", "npi", "ncpdp_id", "tin", "active", "destination", "formats")
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


@dataclass(frozen=True)
class Member:
    """One member pharmacy. Identifiers are strings: leading zeros matter."""

    pharmacy_id: str
    name: str
    npi: str
    ncpdp_id: str | None
    tin: str | None
    active: bool
    destination: Destination
    formats: tuple[str, ...]
    line: int = 0  # line of the roster file, for messages


class Roster:
    """Members indexed by NPI, NCPDP id, TIN and pharmacy id.

    TIN is not unique (a chain files under one TIN), so :meth:`by_tin` returns every member
    with that TIN; NPI and NCPDP id are unique by validation.
    """

    def __init__(self, members: Iterable[Member]) -> None:
        self._members = tuple(members)
        self._by_npi = {m.npi: m for m in self._members}
        self._by_ncpdp = {m.ncpdp_id: m for m in self._members if m.ncpdp_id}
        self._by_id = {m.pharmacy_id: m for m in self._members}
        self._by_tin: dict[str, list[Member]] = {}
        for member in self._members:
            if member.tin:
                self._by_tin.setdefault(member.tin, []).append(member)

    def __len__(self) -> int:
        return len(self._members)

    def __iter__(self) -> Iterator[Member]:
        return iter(self._members)

    def by_npi(self, npi: str) -> Member | None:
        return self._by_npi.get(npi)

    def by_ncpdp(self, ncpdp_id: str) -> Member | None:
        return self._by_ncpdp.get(ncpdp_id)

    def by_id(self, pharmacy_id: str) -> Member | None:
        return self._by_id.get(pharmacy_id)

    def by_tin(self, tin: str) -> tuple[Member, ...]:
        return tuple(self._by_tin.get(tin, ()))


def npi_is_valid(npi: str) -> bool:
    """Luhn check of a 10-digit NPI, with the 80840 card-issuer prefix the NPI standard uses."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    digits = [int(c) for c in "80840" + npi]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def load_roster(path: Path, *, sftp_transports: Iterable[str] | None = None) -> Roster:
    """Read and validate the roster CSV; raise ConfigProblems listing every bad row.

    ``sftp_transports``, when given, is the set of SFTP transport ids that exist, so that a
    destination naming an unknown one is caught at load time rather than at delivery time.
    """
    problems = Problems(path)
    known = set(sftp_transports) if sftp_transports is not None else None
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        problems.add(None, "file", f"cannot be read ({exc.strerror})", "check the path")
        problems.raise_if_any()
        raise  # unreachable: raise_if_any raised
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            problems.add(
                1, "header", f"missing column(s) {', '.join(missing)}",
                f"the first line must be: {','.join(COLUMNS)}",
            )
            problems.raise_if_any()
        members: list[Member] = []
        identities: list[tuple[int, dict[str, str]]] = []
        for row in reader:
            identities.append((reader.line_num, row))
            member = _member(row, reader.line_num, problems, known)
            if member is not None:
                members.append(member)
    _check_unique(identities, problems)
    problems.raise_if_any()
    return Roster(members)


def _member(
    row: dict[str, str], line: int, problems: Problems, known: set[str] | None
) -> Member | None:
    """One validated row, or None (with problems recorded) when it cannot be used."""
    values = {key: (row.get(key) or "").strip() for key in COLUMNS}
    before = len(problems.found)
    if not values["pharmacy_id"]:
        problems.add(line, "pharmacy_id", "is empty", "give every pharmacy a unique id")
    if not values["name"]:
        problems.add(line, "name", "is empty", "give the pharmacy's name")
    npi = values["npi"]
    if not npi_is_valid(npi):
        problems.add(
            line, "npi", f"{npi!r} is not a valid NPI (10 digits, Luhn check digit)",
            "copy the NPI from NPPES",
        )
    ncpdp = values["ncpdp_id"] or None
    if ncpdp is not None and not (len(ncpdp) == 7 and ncpdp.isdigit()):
        problems.add(line, "ncpdp_id", f"{ncpdp!r} is not 7 digits", "use the NCPDP provider id")
    tin = values["tin"].replace("-", "") or None
    if tin is not None and not (len(tin) == 9 and tin.isdigit()):
        problems.add(line, "tin", f"{values['tin']!r} is not 9 digits", "use the 9-digit EIN")
    active = _boolean(values["active"])
    if active is None:
        problems.add(
            line, "active", f"{values['active']!r} is not true/false", "write true or false"
        )
    destination: Destination | None = None
    try:
        destination = check_destination(values["destination"], known)
    except ConfigError as exc:
        problems.add(line, "destination", exc.what, exc.fix)
    formats = tuple(f.strip().lower() for f in values["formats"].split("|") if f.strip())
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        problems.add(
            line, "formats", f"unknown or missing format(s) {', '.join(unknown) or '(none)'}",
            f"list formats separated by | from: {'|'.join(FORMATS)}",
        )
    if len(problems.found) != before or destination is None or active is None:
        return None
    return Member(
        pharmacy_id=values["pharmacy_id"],
        name=values["name"],
        npi=npi,
        ncpdp_id=ncpdp,
        tin=tin,
        active=active,
        destination=destination,
        formats=tuple(dict.fromkeys(formats)),
        line=line,
    )


def _boolean(text: str) -> bool | None:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None


def _check_unique(rows: list[tuple[int, dict[str, str]]], problems: Problems) -> None:
    """Pharmacy id, NPI and NCPDP id must each name one member: routing depends on it.

    Checked over every row, valid or not, so a duplicate is reported in the same run as the
    row's other problems.
    """
    for key in ("pharmacy_id", "npi", "ncpdp_id"):
        first_line: dict[str, int] = {}
        for line, row in rows:
            value = (row.get(key) or "").strip()
            if not value:
                continue
            if value in first_line:
                problems.add(
                    line, key, f"{value!r} is already used on line {first_line[value]}",
                    "each pharmacy must have its own value: remove or correct the duplicate",
                )
            else:
                first_line[value] = line
