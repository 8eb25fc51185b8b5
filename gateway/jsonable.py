"""Canonical documents as JSON-ready values: money as strings, dates ISO, ids strings.

Money is written as the Decimal's exact text (``"12.50"``, never a float that could round),
dates as ``YYYY-MM-DD``, tuples as lists and nested documents as objects with their field
names, so the JSON is a faithful, stable picture of the model for tools and tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import fields, is_dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TextIO

from gateway.model import (
    ClaimPayment,
    ProviderAdjustment,
    ProviderGroup,
    Remittance,
    SourceRef,
    TransactionEnd,
    TransactionHeader,
)


def to_jsonable(value: Any) -> Any:
    """``value`` (a model dataclass, tuple, Decimal, date, str, int or None) as JSON values."""
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [to_jsonable(item) for item in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {field.name: to_jsonable(getattr(value, field.name)) for field in fields(value)}
    raise TypeError(f"cannot express {type(value).__name__} as JSON")


class RemittanceJson:
    """Writes :func:`gateway.x12.read.reader.iter_835`'s items as the JSON of the remittances
    :func:`~gateway.x12.read.reader.read_835` would build, byte for byte what
    ``json.dumps(to_jsonable(remittance))`` gives, without ever holding a whole remittance.

    A single-ST central pay is one remittance with every claim of the file in it: held whole
    it takes gigabytes. Here each claim is written as it is read; only the open set's header
    and its PLB pairs (a few per pharmacy) wait for the set's end, because the JSON puts them
    after the groups while the file may interleave them.

    ``begin`` is written before the first remittance, ``between`` between two, ``end`` after
    the last and ``empty`` instead of all three when there is none (a JSON array, JSON lines).
    """

    def __init__(self, out: TextIO, *, begin: str, between: str, end: str, empty: str) -> None:
        self._out = out
        self._begin, self._between, self._end, self._empty = begin, between, end, empty
        self.count = 0  # remittances completed
        self._header: TransactionHeader | None = None  # of the open set
        self._groups = 0  # groups of the open set so far
        self._claims = 0  # claims of the open group so far
        self._adjustments: list[ProviderAdjustment] = []
        self._group: ProviderGroup | None = None  # the open group, its claims being written
        self._last_claim: SourceRef | None = None  # the open group's last claim so far

    def write(self, items: Iterable[object]) -> int:
        """Write every remittance of ``items``; return how many."""
        for item in items:
            kind = type(item)
            if kind is ClaimPayment:
                self._claim(item)  # type: ignore[arg-type]
            elif kind is ProviderGroup:
                self._open_group(item)  # type: ignore[arg-type]
            elif kind is ProviderAdjustment:
                self._adjustments.append(item)  # type: ignore[arg-type]
            elif kind is TransactionHeader:
                self._open_set(item)  # type: ignore[arg-type]
            elif kind is TransactionEnd:
                self._close_set(item)  # type: ignore[arg-type]
        self._out.write(self._end if self.count else self._empty)
        return self.count

    def _open_set(self, header: TransactionHeader) -> None:
        self._out.write(self._between if self.count else self._begin)
        self._header, self._groups, self._group, self._adjustments = header, 0, None, []
        self._out.write(_opening(header, _SET_HEAD) + ', "groups": [')

    def _open_group(self, group: ProviderGroup) -> None:
        self._close_group()
        self._out.write(", " if self._groups else "")
        self._groups += 1
        self._group, self._last_claim, self._claims = group, None, 0
        self._out.write(_opening(group, _GROUP_HEAD) + ', "claims": [')

    def _claim(self, claim: ClaimPayment) -> None:
        if self._group is None:
            return  # read_835 drops a claim without a group; the reader never yields one
        self._out.write((", " if self._claims else "") + _dumps(claim))
        self._claims += 1
        self._last_claim = claim.source

    def _close_group(self) -> None:
        """End the open group with its source, which runs to the end of its last claim."""
        group, last = self._group, self._last_claim
        if group is None:
            return
        source = group.source
        if last is not None and source is not None:
            source = SourceRef(source.file, source.first_segment, last.last_segment,
                               source.start_offset, last.end_offset)
        rest = {name: source if name == "source" else getattr(group, name)
                for name in _GROUP_TAIL}
        self._out.write("]" + _closing(rest))
        self._group = None

    def _close_set(self, end: TransactionEnd) -> None:
        """End the set as read_835 builds its Remittance: the PLBs kept, the source of the
        whole set from its end, everything else from its header."""
        header = self._header
        if header is None:
            return  # read_835 yields nothing for an end without its header
        self._close_group()
        rest = {name: self._tail_value(name, header, end) for name in _SET_TAIL}
        self._out.write("]" + _closing(rest))
        self._header, self._adjustments = None, []
        self.count += 1

    def _tail_value(self, name: str, header: TransactionHeader, end: TransactionEnd) -> object:
        if name == "provider_adjustments":
            return tuple(self._adjustments)
        if name == "source" or not hasattr(header, name):
            return getattr(end, name)
        return getattr(header, name)


def _around(model: type, streamed: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The model's fields before and after its streamed list, in the JSON's (model) order."""
    names = tuple(item.name for item in fields(model))
    at = names.index(streamed)
    return names[:at], names[at + 1:]


_SET_HEAD, _SET_TAIL = _around(Remittance, "groups")
_GROUP_HEAD, _GROUP_TAIL = _around(ProviderGroup, "claims")


def _dumps(value: Any) -> str:
    return json.dumps(to_jsonable(value))


def _opening(value: object, names: tuple[str, ...]) -> str:
    """The JSON object of ``value``'s first fields, left open for the streamed rest."""
    return json.dumps({name: to_jsonable(getattr(value, name)) for name in names})[:-1]


def _closing(rest: dict[str, Any]) -> str:
    """The fields after a streamed list, and the object's closing brace."""
    return ", " + json.dumps({k: to_jsonable(v) for k, v in rest.items()})[1:] if rest else "}"
