"""The delivery plan: one delivery per (part, destination, format), under a deterministic
idempotency key, so that planning the same file again plans the same deliveries."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from gateway.fsutil import safe_name
from gateway.x12.split.parts import SplitPart, SplitResult


@dataclass(frozen=True)
class PlannedDelivery:
    """One (document part, destination, format) to deliver — or to hold, with the reason."""

    idempotency_key: str
    part: SplitPart
    destination: str
    format: str
    held_reason: str | None

    @property
    def held(self) -> bool:
        return self.held_reason is not None


def idempotency_key(part: SplitPart, destination: str, fmt: str) -> str:
    """sha256 of the set's identity (file hash, interchange ordinal, ISA13, GS06, ST02, set
    ordinal), owner, destination and format: the same file split again plans the same keys,
    so the store's UNIQUE key makes re-planning harmless, and two sets that share an ST02
    (in two groups or interchanges of one file) never share a key (issue 10, item 1)."""
    source = part.source
    where = source.identity.key if source.identity is not None else "|".join(
        (source.sha256, source.control_number))
    text = "|".join((where, part.owner.key, destination, fmt))
    return hashlib.sha256(text.encode()).hexdigest()


def output_stem(part: SplitPart) -> str:
    """The delivered file's name without extension: owner, file hash and the set's identity
    stem — unique per part even when ST02s repeat or hold ``/`` (issue 10, item 12)."""
    source = part.source
    where = source.identity.stem if source.identity is not None else source.control_number
    return safe_name(f"{part.owner.label}-{source.sha256[:12]}-{where}")


def plan_deliveries(result: SplitResult | Iterable[SplitPart]) -> list[PlannedDelivery]:
    """Fan a split out into deliveries: every format a member wants; held parts once, as 835."""
    parts = result.parts if isinstance(result, SplitResult) else list(result)
    planned = []
    for part in parts:
        formats = ("835",) if part.owner.held else part.owner.formats
        for fmt in formats:
            destination = part.owner.destination
            planned.append(PlannedDelivery(
                idempotency_key(part, destination, fmt), part, destination, fmt,
                part.owner.held_reason,
            ))
    return planned
