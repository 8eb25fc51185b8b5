"""Reading typed values and repeating data out of a segment's (field id, value) pairs.

Shared by the request and response views. Repeating fields are read in wire order: an
*opener* field (a counter such as 473-7E, or the first field of a repetition such as 511-FB)
starts a new occurrence, so occurrence lists keep exactly what was sent even when the count
fields disagree with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from gateway.ncpdp.fields import lookup
from gateway.ncpdp.transmission import Segment

Pairs = list[tuple[str, str]]
Value = str | int | Decimal | date | None  # a field in its dictionary type, as read or written


def parse_date(text: str) -> date | None:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8])) if len(text) == 8 else None
    except ValueError:
        return None


class Values:
    """Typed access to the first occurrence of each field of a list of (id, value) pairs."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.raw: dict[str, str] = {}
        for fid, value in pairs:
            self.raw.setdefault(fid, value)

    def text(self, fid: str) -> str | None:
        return self.raw.get(fid)

    def code(self, fid: str) -> str | None:
        """A code as sent (leading zeros kept), or None when it does not fit its format."""
        value = self.raw.get(fid)
        return value if value is None or self.typed(fid) is not None or not value else None

    def typed(self, fid: str) -> Any:
        """The value in its format's type: Decimal, int, date or str, as fields.csv (data)
        defines the field, so only run time knows which; hence Any. None when absent or
        malformed."""
        value = self.raw.get(fid)
        definition = lookup(fid)
        if value is None or definition is None:
            return value
        try:
            return definition.format.decode(value)
        except ValueError:
            return None  # malformed: reported by the checks, raw text kept in the transmission


def occurrences(
    pairs: Iterable[tuple[str, str]], opener: str, members: frozenset[str], *, nested: bool = False
) -> list[Pairs]:
    """Split repeating data into occurrences: ``opener`` (or a member seen twice) starts one.

    ``nested``: members may repeat inside one occurrence (COB's amounts and rejects), so only
    the opener starts the next one.
    """
    out: list[Pairs] = []
    seen: set[str] = set()
    for fid, value in pairs:
        if fid != opener and fid not in members:
            continue
        if fid == opener or not out or (fid in seen and not nested):
            out.append([])
            seen = set()
        out[-1].append((fid, value))
        seen.add(fid)
    return out


def pairs_of(segment: Segment | None) -> list[tuple[str, str]]:
    return list(segment.fields()) if segment is not None else []


@dataclass(frozen=True)
class OtherAmount:
    qualifier: str | None  # 479-H8 (request) / 564-J3 (response)
    amount: Decimal | None  # 480-H9 / 565-J4


def other_amounts(pairs: Pairs, qualifier: str, amount: str) -> tuple[OtherAmount, ...]:
    groups = occurrences(pairs, qualifier, frozenset({amount}))
    return tuple(OtherAmount(Values(g).text(qualifier), Values(g).typed(amount)) for g in groups)
