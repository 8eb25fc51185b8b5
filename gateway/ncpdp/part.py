"""A business part of a segment, declared by the NCPDP fields it is made of.

A part (Patient, Claim, ResponseStatus, ...) is a frozen dataclass whose every field names the
NCPDP field it holds: ``text("CY")`` (as sent), ``code("C5")`` (as sent, None when it does not
fit its format), ``typed("E7")`` (Decimal, int or date as the field dictionary defines it),
``each("DK", count="NX")`` (a repeated value), ``amounts("H8", "H9", count="H7")`` (qualified
amounts) or ``items(Ingredient, count="EC")`` (repeating data, itself a part). From that one
declaration come both directions: :meth:`Part.read` builds the part from a segment's pairs and
:meth:`Part.wire_pairs` gives the pairs back for :mod:`gateway.ncpdp.compose`. A part that
names a field the dictionary does not list for its segments fails at import, not on a claim.

A repeating part says how its occurrences are told apart: ``opener`` starts one, ``members``
belong to it (a member seen twice starts the next unless ``nested``), ``opened`` drops an
occurrence that did not begin with its opener. A part whose fields are not declared in the
standard's order says the wire order (``wire="F5 F6 ..."``) so composing writes that order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Self, dataclass_transform

from gateway.ncpdp.fields import lookup
from gateway.ncpdp.transmission import Segment
from gateway.ncpdp.values import Pairs, Value, occurrences, other_amounts

WirePairs = list[tuple[str, Value]]
_SPEC = "ncpdp"


@dataclass(frozen=True)
class _Spec:
    """How one dataclass field is read from and written to a segment's pairs."""

    kind: str  # text, code, typed, each, amounts, items
    ids: tuple[str, ...]
    count: str | None = None
    part: type[Part] | None = None


def text(field_id: str) -> Any:
    """The field's text as sent (None when absent)."""
    return field(metadata={_SPEC: _Spec("text", (field_id,))})


def code(field_id: str) -> Any:
    """A code as sent, leading zeros kept; None when absent or when it does not fit its format."""
    return field(metadata={_SPEC: _Spec("code", (field_id,))})


def typed(field_id: str) -> Any:
    """The value in its dictionary format's type; None when absent or malformed."""
    return field(metadata={_SPEC: _Spec("typed", (field_id,))})


def each(field_id: str, *, count: str) -> Any:
    """Every value of a repeated field in wire order; ``count`` is written before them."""
    return field(metadata={_SPEC: _Spec("each", (field_id,), count)})


def amounts(qualifier: str, amount: str, *, count: str) -> Any:
    """Qualified amounts (479-H8/480-H9 and the like), each opened by its qualifier."""
    return field(metadata={_SPEC: _Spec("amounts", (qualifier, amount), count)})


def items(part: type[Part], *, count: str | None) -> Any:
    """The occurrences of a repeating part; ``count`` (if any) is written before them."""
    return field(metadata={_SPEC: _Spec("items", (), count, part)})


Reader = Callable[[dict[str, str], Pairs], Any]


@dataclass_transform(
    frozen_default=True, field_specifiers=(text, code, typed, each, amounts, items)
)
class Part:
    """Base of the business parts: a frozen dataclass read and written by its declaration."""

    _readers: ClassVar[tuple[Reader, ...]]
    _specs: ClassVar[tuple[tuple[str, _Spec], ...]]
    _wire: ClassVar[tuple[tuple[str, _Spec], ...]]
    _opener: ClassVar[str | None]
    _members: ClassVar[frozenset[str]]
    _nested: ClassVar[bool]
    _opened: ClassVar[bool]

    def __init_subclass__(
        cls,
        *,
        segments: tuple[str, ...],
        opener: str | None = None,
        members: Iterable[str] = (),
        nested: bool = False,
        opened: bool = False,
        wire: str = "",
    ) -> None:
        super().__init_subclass__()
        made: Any = dataclass(frozen=True)(cls)  # the same class, now a dataclass
        cls._specs = tuple((f.name, f.metadata[_SPEC]) for f in fields(made))
        cls._opener, cls._members = opener, frozenset(members)
        cls._nested, cls._opened = nested, opened
        for name, spec in cls._specs:
            _check(cls, name, spec, segments)
        cls._readers = tuple(_reader(spec) for _, spec in cls._specs)
        cls._wire = _in_wire_order(cls, cls._specs, wire.split()) if wire else cls._specs

    @classmethod
    def read(cls, pairs: Pairs) -> Self:
        """The part from (field id, value) pairs: the first occurrence of each field counts."""
        raw: dict[str, str] = {}
        for fid, value in pairs:
            raw.setdefault(fid, value)
        return cls(*[read(raw, pairs) for read in cls._readers])

    @classmethod
    def of(cls, segment: Segment | None) -> Self | None:
        """The part of a segment, None when the segment is absent."""
        return None if segment is None else cls.read(list(segment.fields()))

    @classmethod
    def occurrences_in(cls, pairs: Pairs) -> tuple[Self, ...]:
        """Every occurrence of a repeating part among ``pairs``, in wire order."""
        assert cls._opener is not None, f"{cls.__name__} declares no opener"
        groups = occurrences(pairs, cls._opener, cls._members, nested=cls._nested)
        return tuple(cls.read(g) for g in groups if not cls._opened or g[0][0] == cls._opener)

    @classmethod
    def all_of(cls, segment: Segment | None) -> tuple[Self, ...]:
        """Every occurrence of a repeating part in a segment (none when it is absent)."""
        return cls.occurrences_in(list(segment.fields()) if segment is not None else [])

    def wire_pairs(self) -> WirePairs:
        """The (field id, typed value) pairs that write this part, in declaration order (or
        the ``wire`` order the part gives, where the standard's differs from its fields')."""
        out: WirePairs = []
        for name, spec in self._wire:
            value = getattr(self, name)
            if spec.kind in ("text", "code", "typed"):
                out.append((spec.ids[0], value))
            elif spec.kind == "each":
                out += counted(spec.count, value) + [(spec.ids[0], v) for v in value]
            elif spec.kind == "amounts":
                qualifier, amount = spec.ids
                out += counted(spec.count, value)
                out += [p for a in value for p in ((qualifier, a.qualifier), (amount, a.amount))]
            else:
                out += occurrence_pairs(value, spec.count)
        return out


def counted(count_id: str | None, values: Sequence[object]) -> WirePairs:
    """The count field of a repetition, only when there is a count field and something to count."""
    return [(count_id, len(values))] if count_id and values else []


def occurrence_pairs(parts: Sequence[Part], count_id: str | None) -> WirePairs:
    """The pairs of repeating parts: their count (if any), then each occurrence in order."""
    return counted(count_id, parts) + [pair for part in parts for pair in part.wire_pairs()]


def _in_wire_order(
    cls: type, specs: tuple[tuple[str, _Spec], ...], wire: list[str]
) -> tuple[tuple[str, _Spec], ...]:
    """``specs`` sorted by ``wire``: each field's id (a repetition's count id) once."""
    keyed = {spec.count or (spec.ids[0] if spec.ids else name): (name, spec)
             for name, spec in specs}
    if sorted(keyed) != sorted(wire):
        raise TypeError(f"{cls.__name__}: wire={' '.join(wire)!r} must name {sorted(keyed)}")
    return tuple(keyed[fid] for fid in wire)


def _check(cls: type, name: str, spec: _Spec, segments: tuple[str, ...]) -> None:
    """A declared field id the dictionary does not place in the part's segments is a typo."""
    for fid in spec.ids + ((spec.count,) if spec.count else ()):
        definition = lookup(fid)
        if definition is None or not set(definition.segments) & set(segments):
            raise TypeError(
                f"{cls.__name__}.{name}: field {fid!r} is not in gateway/ncpdp/fields.csv for"
                f" segment {'/'.join(segments)}; fix the declaration or add the dictionary row"
            )


def _reader(spec: _Spec) -> Reader:
    """The function reading one declared field out of a segment's first values and its pairs."""
    fid = spec.ids[0] if spec.ids else ""
    if spec.kind == "text":
        return lambda raw, pairs: raw.get(fid)
    if spec.kind in ("code", "typed"):
        definition = lookup(fid)
        assert definition is not None  # _check ran first
        return (
            _code(fid, definition.format.decode)
            if spec.kind == "code"
            else _typed(fid, definition.format.decode)
        )
    if spec.kind == "each":
        return lambda raw, pairs: tuple(v for f, v in pairs if f == fid)
    if spec.kind == "amounts":
        qualifier, amount = spec.ids
        return lambda raw, pairs: other_amounts(pairs, qualifier, amount)
    part = spec.part
    assert part is not None
    return lambda raw, pairs: part.occurrences_in(pairs)


def _typed(fid: str, decode: Callable[[str], Value]) -> Reader:
    def read(raw: dict[str, str], pairs: Pairs) -> Value:
        value = raw.get(fid)
        if value is None:
            return None
        try:
            return decode(value)
        except ValueError:
            return None  # malformed: reported by the checks, raw text kept in the transmission

    return read


def _code(fid: str, decode: Callable[[str], Value]) -> Reader:
    def read(raw: dict[str, str], pairs: Pairs) -> str | None:
        value = raw.get(fid)
        if not value:
            return value
        try:
            decode(value)
        except ValueError:
            return None
        return value

    return read
