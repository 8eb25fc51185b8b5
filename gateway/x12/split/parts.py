"""What the 835 splitter works with and hands back: owners, parts, the PSAO's own part.

The splitter (``gateway.x12.split.splitter``) decides *how* an 835 is cut; *who* a piece
belongs to is the router's business, asked through :class:`PartPolicy` so the splitter never
reads a roster.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from gateway.x12.model import SetIdentity


@dataclass(frozen=True)
class ProviderRef:
    """A provider as an 835 names it.

    ``qualifier`` is XX (NPI), FI (TIN), D3 (NCPDP) ... when the segment says (N1*PE N103,
    NM1*82 NM108), or "" when it does not (TS301, PLB01 carry a bare identifier).
    """

    qualifier: str
    identifier: str


@dataclass(frozen=True)
class Payee:
    """Loop 1000B of one transaction set: N1*PE and its REFs."""

    name: str
    qualifier: str  # N103: XX, FI, XV
    identifier: str  # N104
    ncpdp_id: str | None = None  # REF*D3
    tin: str | None = None  # N104 when N103=FI, or REF*TJ

    @property
    def npi(self) -> str | None:
        return self.identifier if self.qualifier == "XX" else None

    @property
    def identifiers(self) -> frozenset[str]:
        return frozenset(i for i in (self.identifier, self.ncpdp_id, self.tin) if i)


@dataclass(frozen=True)
class Owner:
    """Who a part goes to: a member pharmacy, or (without a roster) a provider of the file.

    ``key`` groups pieces of one transaction set into one part (two ids of the same pharmacy
    give one part). ``identifiers`` are every id a PLB01 may use for it. ``held_reason`` set
    means the part must not be delivered: it is kept as a held delivery for an operator.
    ``destination`` keys the control-number sequence and the idempotency key.
    """

    key: str
    label: str  # short, file-name safe: pharmacy id or NPI
    destination: str
    name: str | None = None
    npi: str | None = None
    ncpdp_id: str | None = None
    tin: str | None = None
    identifiers: frozenset[str] = frozenset()
    held_reason: str | None = None
    formats: tuple[str, ...] = ("835",)
    pharmacy_id: str | None = None

    @property
    def held(self) -> bool:
        return self.held_reason is not None


class PartPolicy(Protocol):
    """The router's answers to the splitter's questions."""

    def whole_owner(self, payee: Payee, providers: frozenset[ProviderRef]) -> Owner | None:
        """The owner of the whole transaction set, or None when it is central pay to be split
        by the ``providers`` its claims name (LX/TS3, NM1*82)."""
        ...

    def provider_owner(self, provider: ProviderRef, name: str | None) -> Owner:
        """The owner of the claims (and PLBs) naming ``provider`` inside a central-pay set."""
        ...

    def is_psao(self, identifier: str) -> bool:
        """Whether a PLB01 (or payee id) is the PSAO itself."""
        ...


@dataclass(frozen=True)
class SourceRange:
    """Bytes [start, end) of the file being split, given to writers by reference: a folder
    writer copies them kernel-side (``os.sendfile``) without passing them through
    Python; a writer that needs the bytes reads them with :meth:`blocks`."""

    fd: int
    start: int
    end: int

    def blocks(self, size: int = 1 << 20) -> Iterator[bytes]:
        position = self.start
        while position < self.end:
            data = os.pread(self.fd, min(size, self.end - position), position)
            if not data:
                raise OSError(f"the file being split ended at byte {position}")
            position += len(data)
            yield data

    def __len__(self) -> int:
        return self.end - self.start


Piece = bytes | SourceRange


def piece_bytes(pieces: Iterable[Piece]) -> Iterator[bytes]:
    """The pieces as plain bytes, for writers that need them (hashing, a database)."""
    for piece in pieces:
        if isinstance(piece, SourceRange):
            yield from piece.blocks()
        else:
            yield piece


class LocationKind(StrEnum):
    FILE = "file"  # a file the directory writer made
    PAYLOAD = "payload"  # a message-store payload, by SHA-256
    UNWRITTEN = "unwritten"  # a dry run: measured, not kept


@dataclass(frozen=True)
class PartLocation:
    """Where a written part went; printed as the path, ``payload:<sha>`` or ``(not written)
    <name>``, and a path to ``open()`` only when it is a file."""

    where: str  # the path, the payload's SHA-256 or the part's name, by kind
    kind: LocationKind = LocationKind.FILE

    def __str__(self) -> str:
        if self.kind is LocationKind.PAYLOAD:
            return f"payload:{self.where}"
        if self.kind is LocationKind.UNWRITTEN:
            return f"(not written) {self.where}"
        return self.where

    def __fspath__(self) -> str:
        if self.kind is not LocationKind.FILE:
            raise ValueError(f"part {self} is not a file")
        return self.where

    @property
    def payload_sha256(self) -> str:
        if self.kind is not LocationKind.PAYLOAD:
            raise ValueError(f"part {self} is not a message-store payload")
        return self.where


class PartWriter(Protocol):
    """Where the splitter puts each part's bytes (a folder, the message store)."""

    def write(self, owner: Owner, name: str, pieces: Iterable[Piece]) -> PartLocation:
        """Write the part under ``name`` (file-name safe, deterministic); return its location."""
        ...


@dataclass(frozen=True)
class PartSource:
    """Which transaction set of which file a part comes from (the original is the record)."""

    file: str | None
    sha256: str
    control_number: str  # ST02
    first_segment: int  # ST's segment number in the file
    last_segment: int  # SE's
    start_offset: int
    end_offset: int
    trace_number: str = ""  # TRN02 of the set: the check or EFT number the pharmacy reconciles
    identity: SetIdentity | None = None  # which set of the file (ST02 alone may repeat)


@dataclass(frozen=True)
class SplitPart:
    """One 835 written for one owner from one transaction set.

    ``mode`` is ``whole`` (the ST..SE copied unchanged) or ``split`` (cut out of a central-pay
    set). ``net`` is the owner's share of the payment: its claims' CLP04 minus its PLB amounts;
    it may be negative. ``payment`` is the BPR02 written (never negative: a negative share is
    written as 0 with a PLB FB forwarding balance of ``forward_balance``).
    """

    source: PartSource
    owner: Owner
    mode: str
    claim_count: int
    claims_paid: Decimal
    adjustments: Decimal
    net: Decimal
    payment: Decimal
    forward_balance: Decimal | None
    segment_count: int  # SE01 of the written set
    control_number: int  # ISA13 / GS06 of the written interchange
    part_key: str
    location: PartLocation
    size: int


@dataclass(frozen=True)
class PsaoAdjustment:
    """A PLB adjustment that is no pharmacy's: the PSAO's own (or naming nobody in the file).
    Reported, never spread over pharmacies."""

    control_number: str  # ST02
    provider_id: str  # PLB01
    reason: str
    reference: str | None
    amount: Decimal
    why: str  # "psao" or "names no pharmacy of the file"
    set_start: int = -1  # byte offset of the set's ST (which set, when ST02s repeat)
    identity: SetIdentity | None = None  # the set it belongs to


@dataclass(frozen=True)
class TransactionTotals:
    """The original set's payment and balance, for checking that the parts add up."""

    control_number: str
    payment: Decimal  # original BPR02
    claims_paid: Decimal
    adjustments: Decimal
    claim_count: int
    identity: SetIdentity | None = None  # which set of the file (ST02 alone may repeat)
    start_offset: int = -1  # ST's byte offset

    @property
    def balanced(self) -> bool:
        return self.payment == self.claims_paid - self.adjustments


@dataclass
class SplitResult:
    """Everything one split produced, in file order."""

    file: str | None
    sha256: str
    parts: list[SplitPart] = field(default_factory=list)
    psao_adjustments: list[PsaoAdjustment] = field(default_factory=list)
    transaction_sets: list[TransactionTotals] = field(default_factory=list)

    @property
    def delivered(self) -> list[SplitPart]:
        return [p for p in self.parts if not p.owner.held]

    @property
    def held(self) -> list[SplitPart]:
        return [p for p in self.parts if p.owner.held]
