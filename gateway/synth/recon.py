"""Synthetic reconciliation scenarios with known truth (``gateway synth recon``).

A scenario is pharmacies filling prescriptions billed to three PBMs, the claims and the PBMs'
responses (NCPDP batches), and the 835s that pay them — with every outcome the reconciler
must find planted on purpose: paid as adjudicated, short-paid (a contract shortfall, CO-131,
or DIR taken at the claim, CO-295), over-paid, unpaid at several ages, reversed at the point
of sale (never paid, or paid and taken back with CLP02=22), paid twice, paid in two parts in
two 835s, rebilled (B3), rejected, and paid without any claim. PLBs carry fees, interest,
recoupments, DIR and adjustments.

The three PBMs write CLP01 in three styles: the Rx number alone (``pbm-alpha``, the default
pattern), Rx + two-digit fill (``pbm-beta``, central pay to the PSAO) and ``<Rx>FILL<n>``
(``pbm-gamma``).

Deterministic by seed and bounded in memory at any size: claims are a pure function of their
*cell* (pharmacy, PBM, week of service), so each file regenerates the few cells it needs.
Amounts are integer cents inside the generator; truth is written as Decimal text. Every
name, id and amount is made up (see :mod:`gateway.synth.pharmacies` and
:mod:`gateway.synth.ncpdp`).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

from gateway.synth.pharmacies import Pharmacy, make_npi, make_pharmacies

KINDS = ("paid", "short-dir", "short", "over", "unpaid", "reversed", "reversed-paid", "twice",
         "split", "rebill", "rejected", "unmatched")
_WEIGHTS = (46, 6, 5, 4, 8, 3, 3, 4, 5, 3, 8, 3)
TRUTH = {  # kind -> the outcome the reconciler must report
    "paid": "paid", "short-dir": "short-paid", "short": "short-paid", "over": "over-paid",
    "unpaid": "unpaid", "reversed": "reversed", "reversed-paid": "reversed",
    "twice": "paid-twice", "split": "paid", "rebill": "paid", "rejected": "rejected",
    "unmatched": "unmatched-payment",
}
UNPAID_AGES = (3, 20, 45, 75, 120)  # days before the as-of date: one per aging bucket
# Made-up names, chosen to appear nowhere else in the gateway's outputs, so the PHI test can
# search every report, log line and ledger row for them.
LAST_NAMES = ("QUILLFEATHER", "MARROWBY", "THISTLEWOOD", "BRAMBLECOTT", "FENWORTHY", "OSGOODLE")
FIRST_NAMES = ("ZEPHYRINE", "ORLANDEAU", "PERSIMMA", "WYNTHROP", "CALLISTRA", "BARNABUS")


@dataclass(frozen=True)
class PbmStyle:
    id: str
    name: str
    bin: str
    pcn: str
    payer_id: str  # TRN03
    clp01: str  # rx | rx+fill | rxFILLn
    shape: str  # multi-st | single-st (central pay to the PSAO)

    def claim_id(self, rx: str, fill: int) -> str:
        if self.clp01 == "rx+fill":
            return f"{rx}{fill:02d}"
        if self.clp01 == "rxFILLn":
            return f"{rx}FILL{fill}"
        return rx

    @property
    def writes_fill(self) -> bool:
        return self.clp01 != "rx"


PBMS = (
    PbmStyle("pbm-alpha", "ALPHA RX BENEFITS (SYNTHETIC)", "999101", "ALPHARX", "1999990001",
             "rx", "multi-st"),
    PbmStyle("pbm-beta", "BETA PHARMACY PLANS (SYNTHETIC)", "999102", "BETAPCN", "1999990002",
             "rx+fill", "single-st"),
    PbmStyle("pbm-gamma", "GAMMA SCRIPT SERVICES (SYNTHETIC)", "999103", "GAMMA", "1999990003",
             "rxFILLn", "multi-st"),
)


@dataclass(frozen=True)
class ReconSpec:
    seed: int = 1
    pharmacies: int = 3
    claims: int = 300  # fills, spread over pharmacies x PBMs x weeks
    weeks: int = 8  # weeks of service, from ``start``
    start: date = date(2026, 1, 5)  # a Monday

    def __post_init__(self) -> None:
        if self.pharmacies < 1 or self.claims < 1 or self.weeks < 1:
            raise ValueError("pharmacies, claims and weeks must each be at least 1")

    @property
    def as_of(self) -> date:
        """After every payment cycle (the last pays three weeks after the last week)."""
        return self.start + timedelta(days=7 * (self.weeks + 3) + 7)

    @property
    def period(self) -> tuple[date, date]:
        """Every date of service and payment date of the scenario falls in this period."""
        earliest = self.as_of - timedelta(days=max(UNPAID_AGES) + 1)
        return min(self.start, earliest), self.as_of

    def payment_date(self, pbm: int, cycle: int) -> date:
        """PBM ``pbm`` pays cycle ``cycle`` (the claims of week ``cycle``) the next week."""
        return self.start + timedelta(days=7 * (cycle + 1) + 2 + pbm)

    @property
    def cycles(self) -> int:
        return self.weeks + 2  # split claims get their second part two cycles later


@dataclass(frozen=True)
class Patient:
    """PHI of the synthetic kind: the PHI test searches every output for these."""

    last_name: str
    first_name: str
    cardholder_id: str
    birth_date: date


@dataclass(frozen=True)
class SynthClaim:
    """One fill and what the PBM does with it. Cents throughout."""

    pharmacy: int
    pbm: int
    week: int
    number: int  # in its cell
    kind: str
    rx: str
    fill: int
    dos: date
    ndc: str
    quantity: int
    days_supply: int
    ingredient_submitted: int
    fee_submitted: int
    ingredient_paid: int
    fee_paid: int
    copay: int
    expected: int  # 509-F9 of the response that counts
    delta: int  # shortfall, overpayment, first part (split) or the B1's F9 (rebill)
    patient: Patient

    @property
    def gross(self) -> int:
        return self.ingredient_submitted + self.fee_submitted

    def payments(self) -> list[tuple[int, str, int, tuple[tuple[str, str, int], ...]]]:
        """(cycle, CLP02, CLP04, extra CAS) of each payment the PBM makes for it."""
        w, e, d = self.week, self.expected, self.delta
        plan: dict[str, list[tuple[int, str, int, tuple[tuple[str, str, int], ...]]]] = {
            "paid": [(w, "1", e, ())], "rebill": [(w, "1", e, ())],
            "unmatched": [(w, "1", e, ())],
            "short-dir": [(w, "1", e - d, (("CO", "295", d),))],
            "short": [(w, "1", e - d, (("CO", "131", d),))],
            "over": [(w, "1", e + d, ())],
            "reversed-paid": [(w, "1", e, ()), (w + 1, "22", -e, ())],
            "twice": [(w, "1", e, ()), (w + 1, "1", e, ())],
            "split": [(w, "1", d, ()), (w + 2, "1", e - d, ())],
        }
        return plan.get(self.kind, [])

    @property
    def truth_expected(self) -> int | None:
        if self.kind == "unmatched":
            return None
        return 0 if self.kind in ("reversed", "reversed-paid", "rejected") else self.expected


class Scenario:
    """The scenario of one spec: its pharmacies and its claims, cell by cell."""

    def __init__(self, spec: ReconSpec) -> None:
        self.spec = spec
        self.pharmacies: list[Pharmacy] = make_pharmacies(spec.seed, spec.pharmacies)
        npi = make_npi(random.Random(f"recon-psao:{spec.seed}"))
        self.psao = Pharmacy("PSAO", "EXAMPLE PSAO SERVICES", npi, "", "000000001",
                             "1 PSAO PLAZA", "COLUMBUS", "OH", "43215")

    @cached_property
    def cell_sizes(self) -> dict[tuple[int, int, int], int]:
        cells = [(p, b, w) for p in range(self.spec.pharmacies) for b in range(len(PBMS))
                 for w in range(self.spec.weeks)]
        base, extra = divmod(self.spec.claims, len(cells))
        return {cell: base + (1 if n < extra else 0) for n, cell in enumerate(cells)}

    @cached_property
    def cell_index(self) -> dict[tuple[int, int, int], int]:
        return {cell: n for n, cell in enumerate(self.cell_sizes)}

    def cell(self, pharmacy: int, pbm: int, week: int) -> list[SynthClaim]:
        """The claims of one cell; the same list every time (seeded by the cell)."""
        if not 0 <= week < self.spec.weeks:
            return []
        rng = random.Random(f"recon:{self.spec.seed}:{pharmacy}:{pbm}:{week}")
        index = self.cell_index[(pharmacy, pbm, week)]
        claims: list[SynthClaim] = []
        for number in range(self.cell_sizes[(pharmacy, pbm, week)]):
            kind = KINDS[index % len(KINDS)] if number == 0 else rng.choices(KINDS, _WEIGHTS)[0]
            claims.append(self._claim(rng, pharmacy, pbm, week, number, kind,
                                      claims[-1] if claims else None))
        return claims

    def claims(self) -> Iterator[SynthClaim]:
        for pharmacy, pbm, week in self.cell_sizes:
            yield from self.cell(pharmacy, pbm, week)

    def _claim(self, rng: random.Random, pharmacy: int, pbm: int, week: int, number: int,
               kind: str, previous: SynthClaim | None) -> SynthClaim:
        spec = self.spec
        dos = spec.start + timedelta(days=7 * week + rng.randrange(7))
        rx = f"{(1 if kind != 'unmatched' else 9)}{pbm}{week:03d}{number:05d}"
        fill = rng.randrange(0, 4)
        refill = (previous is not None and rng.random() < 0.15
                  and kind not in ("unpaid", "unmatched")
                  and previous.kind not in ("unpaid", "unmatched"))
        if refill:
            assert previous is not None
            rx, fill = previous.rx, previous.fill + 1
            dos = previous.dos + timedelta(days=rng.randint(1, 6))
        if kind == "unpaid":
            dos = spec.as_of - timedelta(days=UNPAID_AGES[number % len(UNPAID_AGES)])
        ingredient_paid = rng.randint(500, 30000)
        fee_paid = rng.choice((150, 175, 250, 1000))
        copay = min(rng.choice((0, 0, 500, 1000, 3500)), ingredient_paid // 2)
        expected = ingredient_paid + fee_paid - copay
        margin = rng.randint(100, 5000)
        delta = {
            "short-dir": rng.randint(50, max(51, expected // 3)),
            "short": rng.randint(50, max(51, expected // 3)),
            "over": rng.randint(50, margin),
            "split": expected * rng.randint(30, 70) // 100,
            "rebill": expected + rng.randint(-300, 300),
        }.get(kind, 0)
        patient = Patient(rng.choice(LAST_NAMES), rng.choice(FIRST_NAMES),
                          f"SYNCH{rng.randrange(10**9):09d}",
                          date(1940, 1, 1) + timedelta(days=rng.randrange(25000)))
        return SynthClaim(
            pharmacy, pbm, week, number, kind, rx, fill, dos,
            f"99999{rng.randrange(1000):03d}{rng.randrange(100):02d}"[:11].ljust(11, "0"),
            rng.choice((30, 60, 90)), rng.choice((30, 90)), ingredient_paid + margin, fee_paid,
            ingredient_paid, fee_paid, copay, expected, delta, patient)
