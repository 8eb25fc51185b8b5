"""What a synthetic 835 holds and what must become of each claim: the truth a test checks.

:mod:`gateway.synth.x12_shapes` draws a file and, with it, this record — every claim and PLB
and the pharmacy it belongs to, every set's payment, and each one's :class:`Fate` — so a
conservation test can count that nothing was lost, doubled or sent to the wrong pharmacy.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


@dataclass(frozen=True)
class ClaimTruth:
    """One claim as generated: whose it is, and what identifies it in any output."""

    npi: str  # the pharmacy the claim belongs to
    claim_id: str  # CLP01 (Rx number)
    ccn: str  # CLP07, unique per generated claim
    paid: Decimal  # CLP04


@dataclass(frozen=True)
class PlbTruth:
    """One PLB adjustment as generated: PLB01 (whose it is), reason, reference, amount."""

    npi: str
    reason: str
    reference: str
    amount: Decimal


class Fate(StrEnum):
    """What must become of a claim or PLB of a synthetic file (the truth a test checks)."""

    DELIVERED = "delivered"  # to a member
    HELD = "held"  # a pharmacy not in the roster
    DUPLICATE = "duplicate"  # a repeated interchange or payment: held
    QUARANTINED = "quarantined"  # the whole file is refused
    RETAINED = "retained"  # the PSAO's own adjustment of a central pay (PLBs only)


_WHOLE_FILE = (Fate.DUPLICATE, Fate.QUARANTINED)  # a set's fate that decides all its parts


@dataclass(frozen=True)
class SetTruth:
    """One transaction set: its envelope identity, its money and its fate."""

    interchange: int  # ordinal of its interchange in the file, from 0
    isa13: str
    gs06: str
    st02: str
    shape: str  # "pharmacy" (payee = the pharmacy) or "central" (payee = the PSAO)
    payment: Decimal  # BPR02
    plb: Decimal  # sum of PLB amounts
    claims: tuple[ClaimTruth, ...]
    fate: Fate  # for a member's claims; a stranger's are held (see claim_fate)
    trace: str  # TRN02
    members: frozenset[str] = frozenset()  # NPIs of roster members
    plbs: tuple[PlbTruth, ...] = ()
    psao: str = ""  # the PSAO's NPI: its PLBs are its own part, never a pharmacy's

    def claim_fate(self, claim: ClaimTruth) -> Fate:
        if self.fate in _WHOLE_FILE:
            return self.fate
        return Fate.DELIVERED if claim.npi in self.members else Fate.HELD

    def plb_fate(self, plb: PlbTruth) -> Fate:
        """Like a claim's; ``retained`` for the PSAO's own adjustments of a central pay."""
        if self.fate in _WHOLE_FILE:
            return self.fate
        if plb.npi == self.psao:
            return Fate.RETAINED
        return Fate.DELIVERED if plb.npi in self.members else Fate.HELD


@dataclass(frozen=True)
class Truth:
    """What the file holds and what must become of each claim."""

    sets: tuple[SetTruth, ...]
    quarantined: bool  # the whole file must be refused (poison)
    poison: str | None = None  # what was done to it

    def claims(self, fate: Fate | str) -> list[tuple[ClaimTruth, SetTruth]]:
        return [(c, s) for s in self.sets for c in s.claims if s.claim_fate(c) == fate]

    def plbs(self, fate: Fate | str) -> list[PlbTruth]:
        return [p for s in self.sets for p in s.plbs if s.plb_fate(p) == fate]
