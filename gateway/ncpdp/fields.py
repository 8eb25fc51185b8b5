"""The field dictionary: what each 2-character NCPDP field identifier means and how it is coded.

The dictionary is data (``fields.csv`` beside this module), not code, so that a payer-sheet
quirk or a newly seen field is a one-line change reviewed like any other data. The codec never
*needs* an entry: unknown fields are kept verbatim; the dictionary only drives typed views
(Decimal, date, int), the writer's encoding of typed values, and the format checks.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources

from gateway.errors import ConfigError
from gateway.ncpdp import overpunch

_PICTURE = re.compile(r"^(?P<sign>s?)(?P<kind>[x9])\((?P<width>\d+)\)(?:v(?P<places>9+))?$")


@dataclass(frozen=True)
class FieldFormat:
    """A parsed NCPDP picture clause.

    ``kind`` is one of ``text`` (x(n)), ``int`` (9(n)), ``date`` (CCYYMMDD), ``decimal``
    (9(n)v99.., unsigned implied decimals) or ``signed`` (s9(n)v99.., overpunch).
    """

    kind: str
    width: int
    places: int = 0

    @classmethod
    def parse(cls, picture: str) -> FieldFormat:
        if picture == "date":
            return cls("date", 8)
        match = _PICTURE.match(picture)
        if not match:
            raise ValueError(f"unknown picture {picture!r}")
        width = int(match["width"])
        places = len(match["places"] or "")
        if match["kind"] == "x":
            return cls("text", width)
        if match["sign"]:
            return cls("signed", width + places, places)
        return cls("decimal" if places else "int", width + places, places)

    def decode(self, text: str) -> str | int | Decimal | date | None:
        """The typed value of ``text`` (None when empty); ValueError when malformed."""
        if self.kind == "text":
            return text
        if not text:
            return None
        if self.kind == "signed":
            return overpunch.decode(text, self.places)
        if self.kind == "decimal":
            return overpunch.decode_unsigned(text, self.places)
        if not (text.isascii() and text.isdigit()):
            raise ValueError(f"{text!r} is not numeric")
        if self.kind == "date":
            return (
                date(int(text[:4]), int(text[4:6]), int(text[6:8]))
                if len(text) == 8
                else _bad(text)
            )
        return int(text)

    def encode(self, value: str | int | Decimal | date | None) -> str:
        """The wire text of a typed value (shortest form; zero padding is a payer-sheet choice)."""
        if value is None:
            return ""
        if self.kind in ("signed", "decimal"):
            if isinstance(value, date):
                raise TypeError(f"a date is not a {self.kind} amount: {value}")
            if self.kind == "signed":
                return overpunch.encode(Decimal(value), self.places)
            return overpunch.encode_unsigned(Decimal(value), self.places)
        if self.kind == "date" and isinstance(value, date):
            return value.strftime("%Y%m%d")
        return str(value)


def _bad(text: str) -> date:
    raise ValueError(f"{text!r} is not a CCYYMMDD date")


@dataclass(frozen=True)
class FieldDef:
    """One dictionary entry: ``id`` as on the wire (``D2``), ``number`` (``402``), name, format."""

    id: str
    number: str
    name: str
    segments: tuple[str, ...]
    format: FieldFormat

    @property
    def label(self) -> str:
        """``402-D2 Prescription/Service Reference Number``: how operators name a field."""
        return f"{self.number}-{self.id} {self.name}" if "-" not in self.number else self.name


@cache
def dictionary() -> dict[str, FieldDef]:
    """The packaged dictionary, keyed by field id. Loaded once; validated with line numbers."""
    text = resources.files("gateway.ncpdp").joinpath("fields.csv").read_text(encoding="utf-8")
    return load(text, "gateway/ncpdp/fields.csv")


def load(text: str, source: str) -> dict[str, FieldDef]:
    """Parse dictionary CSV text; a bad row is a ConfigError naming file, line and fix."""
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    comments = len(text.splitlines()) - len(lines)
    entries: dict[str, FieldDef] = {}
    for row_number, row in enumerate(csv.DictReader(lines), start=comments + 2):
        where = f"{source}, line {row_number}"
        try:
            fmt = FieldFormat.parse(row["format"])
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"{exc}", where=where, fix="use x(n), 9(n), date, 9(n)v99 or s9(n)v99"
            ) from None
        field_id = row["id"]
        if len(field_id) != 2 or field_id in entries:
            raise ConfigError(
                f"field id {field_id!r} is not 2 characters or is repeated",
                where=where,
                fix="one row per 2-character id",
            )
        entries[field_id] = FieldDef(
            field_id, row["number"], row["name"], tuple(row["segments"].split()), fmt
        )
    return entries


def lookup(field_id: str) -> FieldDef | None:
    """The entry for a field id, or None when the dictionary does not know it (kept verbatim)."""
    return dictionary().get(field_id)
