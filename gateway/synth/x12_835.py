"""Synthetic pharmacy X12 835 (005010X221A1) central-pay remittances, streamed to disk.

Two shapes a PBM uses to pay many pharmacies at once (see the 835 reference, "Central pay"):

* ``multi-st``: one ST..SE per pharmacy; the pharmacy is the payee (N1*PE*name*XX*NPI, REF*D3
  NCPDP id, REF*TJ TIN) and its PLBs carry its NPI.
* ``single-st``: one ST..SE for everything; the PSAO is the payee, each pharmacy is an LX group
  with TS3 (TS301 = pharmacy NPI), each claim names it in NM1*82, and PLB01 is the pharmacy's
  NPI — plus PLBs whose PLB01 is the PSAO's own NPI.

Every file balances (SVC02 - CAS = SVC03 per line, CLP03 - CAS = CLP04 per claim, BPR02 =
sum CLP04 - sum PLB per set) and its counts (SE01, GE01, IEA01, TS304) are right.

Memory does not grow with the file: claims are generated twice from a per-pharmacy seeded
random stream, once to total them (BPR02 and TS3 come before the claims) and once to write
them. Money is integer cents inside the generator (exact, and fast at 400k claims); the
summary reports Decimal.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from gateway.synth.pharmacies import Pharmacy, make_npi, make_pharmacies
from gateway.synth.plb import fit_to_payment
from gateway.synth.x12_writer import Delimiters, SegmentWriter, cents

SHAPES = ("multi-st", "single-st")

_NDCS = (
    "00071015523", "00006027731", "00781107201", "00904629161", "00074433902", "60505257909",
    "00143988901", "81968004560", "59762331701", "00169413212", "00591060401", "00093505801",
)
_QUANTITIES = (30, 60, 90, 28, 14, 120, 1, 180)
_COPAYS = (0, 0, 500, 1000, 1500, 4700)
_DENIAL_CARCS = ("16", "197", "204", "96")
_FILING = ("MB", "MC", "16", "13", "ZZ")  # CLP06 values the 835 allows
_LAST = ("SAMPLE", "TESTER", "EXAMPLE", "DEMO", "SYNTH", "PLACEHOLDER", "FICTION", "MOCK")
_FIRST = ("ALEX", "JORDAN", "TAYLOR", "CASEY", "MORGAN", "RILEY", "JAMIE", "AVERY")


@dataclass(frozen=True)
class Spec:
    """What to generate. The same Spec (seed included) always gives the same bytes."""

    shape: str = "multi-st"
    payees: int = 5  # pharmacies in the file
    claims: int = 40  # claims in the whole file, spread over the pharmacies
    seed: int = 1
    reversal_rate: float = 0.08  # CLP02=22, negative amounts
    denial_rate: float = 0.06  # CLP02=4, nothing paid
    compound_rate: float = 0.1  # claims with 2-3 service lines
    dir_rate: float = 0.2  # lines with a CARC 295 (DIR) adjustment
    plb_rate: float = 0.5  # pharmacies with provider-level adjustments
    delimiters: Delimiters = field(default_factory=Delimiters)
    production_date: date = date(2026, 1, 5)
    interchange_control_number: int = 1
    usage: str = "P"  # ISA15

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise ValueError(f"shape must be one of {', '.join(SHAPES)}, not {self.shape!r}")
        if self.payees < 1 or self.claims < 0:
            raise ValueError("payees must be at least 1 and claims at least 0")
        if self.reversal_rate + self.denial_rate > 1:
            raise ValueError("reversal_rate + denial_rate must not exceed 1")


@dataclass(frozen=True)
class SetSummary:
    """One generated transaction set, for tests and for the roster."""

    control_number: str  # ST02
    payee_npi: str
    claims: int
    total_paid: Decimal  # sum CLP04
    total_plb: Decimal  # sum PLB amounts
    payment: Decimal  # BPR02
    segments: int  # SE01


@dataclass(frozen=True)
class Summary:
    """What ``write_835`` wrote."""

    pharmacies: tuple[Pharmacy, ...]
    sets: tuple[SetSummary, ...]
    segments: int  # every segment in the file, ISA..IEA
    psao: Pharmacy  # the payee of a single-ST file, and PLB01 of the PSAO's own fees

    @property
    def claims(self) -> int:
        return sum(s.claims for s in self.sets)


@dataclass(frozen=True)
class _Line:
    ndc: str
    charge: int  # cents, negative on reversals
    paid: int
    units: int
    co: tuple[tuple[str, int], ...]  # CAS*CO (CARC, cents)
    copay: int  # CAS*PR*3


@dataclass(frozen=True)
class _Claim:
    rx: str
    status: str
    lines: tuple[_Line, ...]
    filing: str
    patient: tuple[str, str, str]  # last, first, member id

    @property
    def charge(self) -> int:
        return sum(line.charge for line in self.lines)

    @property
    def paid(self) -> int:
        return sum(line.paid for line in self.lines)

    @property
    def copay(self) -> int:
        return sum(line.copay for line in self.lines)


@dataclass(frozen=True)
class _Plb:
    provider: str  # PLB01
    pairs: tuple[tuple[str, str, int], ...]  # (reason, reference, cents)


class _Totals:
    """Pass-one totals of one pharmacy's claims."""

    def __init__(self, claims: Iterator[_Claim]) -> None:
        self.count = self.charge = self.paid = 0
        for claim in claims:
            self.count += 1
            self.charge += claim.charge
            self.paid += claim.paid


def write_835(out: TextIO, spec: Spec) -> Summary:
    """Write one interchange per ``spec`` to ``out`` (a text stream) and say what was written."""
    pharmacies = make_pharmacies(spec.seed, spec.payees)
    psao = _psao(spec.seed)
    writer = SegmentWriter(out, spec.delimiters)
    _write_header(writer, spec)
    counts = _claim_counts(spec)
    if spec.shape == "multi-st":
        sets = [
            _write_pharmacy_set(writer, spec, index, pharmacy, counts[index])
            for index, pharmacy in enumerate(pharmacies)
        ]
    else:
        sets = [_write_central_set(writer, spec, psao, pharmacies, counts)]
    icn = f"{spec.interchange_control_number:09d}"
    writer.segment("GE", str(len(sets)), str(spec.interchange_control_number))
    writer.segment("IEA", "1", icn)
    return Summary(tuple(pharmacies), tuple(sets), writer.count, psao)


def write_835_file(path: str | Path, spec: Spec) -> Summary:
    """``write_835`` into a file (ASCII, 1 MiB buffer, no newline translation)."""
    with open(path, "w", encoding="ascii", newline="", buffering=1 << 20) as out:
        return write_835(out, spec)


def _psao(seed: int) -> Pharmacy:
    """The PSAO itself, payee of single-ST files and PLB01 of its own fees."""
    npi = make_npi(random.Random(f"psao:{seed}"))
    return Pharmacy("PSAO", "EXAMPLE PSAO SERVICES", npi, "", "000000001", "1 PSAO PLAZA",
                    "COLUMBUS", "OH", "43215")


def _claim_counts(spec: Spec) -> list[int]:
    """Spread ``spec.claims`` over the pharmacies unevenly (real central pays are skewed)."""
    rng = random.Random(f"counts:{spec.seed}")
    weights = [rng.uniform(0.2, 1.8) for _ in range(spec.payees)]
    scale = spec.claims / sum(weights)
    counts = [int(w * scale) for w in weights]
    for index in range(spec.claims - sum(counts)):
        counts[index % spec.payees] += 1
    return counts


def _claims(spec: Spec, index: int, count: int) -> Iterator[_Claim]:
    """The claims of pharmacy ``index``; the same sequence every time it is called."""
    rng = random.Random(f"claims:{spec.seed}:{index}")
    for number in range(count):
        roll = rng.random()
        status = "22" if roll < spec.reversal_rate else "1"
        if status == "1" and roll < spec.reversal_rate + spec.denial_rate:
            status = "4"
        n_lines = rng.choice((2, 3)) if rng.random() < spec.compound_rate else 1
        lines = tuple(_line(rng, spec, status, first=i == 0) for i in range(n_lines))
        member = f"ZZ{rng.randint(0, 999999999):09d}"
        yield _Claim(
            rx=f"{rng.randint(1000000, 9999999)}{number % 100:02d}",
            status=status,
            lines=lines,
            filing=rng.choice(_FILING),
            patient=(rng.choice(_LAST), rng.choice(_FIRST), member),
        )


def _line(rng: random.Random, spec: Spec, status: str, *, first: bool) -> _Line:
    charge = rng.randint(500, 60000) if rng.random() < 0.97 else rng.randint(60000, 900000)
    ndc, units = rng.choice(_NDCS), rng.choice(_QUANTITIES)
    if status == "4":
        return _Line(ndc, charge, 0, units, ((rng.choice(_DENIAL_CARCS), charge),), 0)
    copay = min(rng.choice(_COPAYS), charge // 2) if first else 0
    contractual = rng.randint(0, (charge - copay) * 3 // 10)
    co = [("45", contractual)] if contractual else []
    if rng.random() < spec.dir_rate:
        dir_fee = rng.randint(1, max(1, (charge - copay - contractual) // 20))
        co.append(("295", dir_fee))
    paid = charge - copay - sum(amount for _, amount in co)
    sign = -1 if status == "22" else 1
    return _Line(
        ndc, sign * charge, sign * paid, units,
        tuple((carc, sign * amount) for carc, amount in co), sign * copay,
    )


def _plbs(spec: Spec, key: str, provider: str, paid: int, *, psao: bool = False) -> list[_Plb]:
    """Provider-level adjustments for one provider; its net payment never goes below zero.

    Positive amounts reduce the payment (WO recovery, AH fee, FB/CS DIR clawback), negative
    ones increase it (L6 interest, CS credit). When reversals outweigh payments, a negative
    FB (balance forward) brings the net to zero, as payers do, instead of a negative BPR02.
    """
    rng = random.Random(f"plb:{spec.seed}:{key}")
    chosen: list[tuple[str, str, int]] = []
    if psao:
        chosen = [("AH", "TXNFEE", rng.randint(100, 5000)),
                  ("CS", "NETWORKFEE", rng.randint(100, 20000))]
    elif rng.random() < spec.plb_rate:
        candidates = [
            ("WO", f"RX{rng.randint(1000000, 9999999)}", rng.randint(100, 30000)),
            ("L6", "INTEREST", -rng.randint(1, 2500)),
            ("FB", f"DIR{spec.production_date.year}Q{rng.randint(1, 4)}", rng.randint(100, 40000)),
            ("CS", "DIRTRUEUP", -rng.randint(100, 9000)),
            ("AH", "TXNFEE", rng.randint(10, 500)),
        ]
        chosen = rng.sample(candidates, rng.randint(1, len(candidates)))
    pairs = fit_to_payment(paid, chosen)
    # Up to three pairs per PLB segment, so that a set often carries several PLB segments.
    return [_Plb(provider, tuple(pairs[i : i + 3])) for i in range(0, len(pairs), 3)]


def _write_header(writer: SegmentWriter, spec: Spec) -> None:
    d, day = spec.delimiters, spec.production_date
    icn = f"{spec.interchange_control_number:09d}"
    writer.isa(
        ["00", " " * 10, "00", " " * 10, "ZZ", "EXAMPLEPBM".ljust(15), "ZZ",
         "EXAMPLEPSAO".ljust(15), day.strftime("%y%m%d"), "1200", d.repetition, "00501", icn,
         "0", spec.usage]
    )
    writer.segment("GS", "HP", "EXAMPLEPBM", "EXAMPLEPSAO", day.strftime("%Y%m%d"), "1200",
                   str(spec.interchange_control_number), "X", "005010X221A1")


def _write_set_header(w: SegmentWriter, spec: Spec, st02: str, payee: Pharmacy, payment: int,
                      *, pharmacy_ids: bool) -> None:
    day = spec.production_date.strftime("%Y%m%d")
    w.start_set()
    w.segment("ST", "835", st02)
    w.bpr(payment, day)
    trace = f"{spec.production_date:%y%m%d}{spec.interchange_control_number:05d}{st02}"
    w.segment("TRN", "1", trace, "1999999999")
    w.segment("REF", "EV", "EXAMPLEPSAO")
    w.segment("DTM", "405", day)
    w.segment("N1", "PR", "EXAMPLE PBM ONE")
    w.segment("N3", "PO BOX 1000")
    w.segment("N4", "BRISTOL", "CT", "06010")
    w.segment("REF", "2U", "610014")
    w.segment("PER", "BL", "EDI SUPPORT", "TE", "8005550100")
    w.segment("N1", "PE", payee.name, "XX", payee.npi)
    w.segment("N3", payee.street)
    w.segment("N4", payee.city, payee.state, payee.postal_code)
    if pharmacy_ids:
        w.segment("REF", "D3", payee.ncpdp_id)
    w.segment("REF", "TJ", payee.tin)


def _write_claim(w: SegmentWriter, spec: Spec, claim: _Claim, ccn: str,
                 rendering: Pharmacy | None) -> None:
    comp, day = spec.delimiters.component, spec.production_date.strftime("%Y%m%d")
    patresp = cents(claim.copay) if claim.status != "4" else "0"
    w.segment("CLP", claim.rx, claim.status, cents(claim.charge), cents(claim.paid), patresp,
              claim.filing, ccn, "01", "1")
    last, first, member = claim.patient
    w.segment("NM1", "QC", "1", last, first, "", "", "", "MI", member)
    if rendering is not None:
        w.segment("NM1", "82", "2", rendering.name, "", "", "", "", "XX", rendering.npi)
    if claim.status == "22":
        w.segment("REF", "F8", f"R{ccn}")
    w.segment("DTM", "232", day)
    for number, line in enumerate(claim.lines, 1):
        w.segment("SVC", f"N4{comp}{line.ndc}", cents(line.charge), cents(line.paid), "",
                  str(line.units))
        w.segment("DTM", "472", day)
        if line.co:
            w.segment("CAS", "CO", *_triplets(line.co))
        if line.copay:
            w.segment("CAS", "PR", "3", cents(line.copay))
        w.segment("REF", "6R", f"{claim.rx}{number:02d}")
        if claim.status != "4":
            w.segment("AMT", "B6", cents(line.paid + line.copay))


def _triplets(pairs: tuple[tuple[str, int], ...]) -> list[str]:
    return [e for carc, amount in pairs for e in (carc, cents(amount), "")][:-1]


def _write_plbs(w: SegmentWriter, spec: Spec, plbs: list[_Plb]) -> None:
    comp = spec.delimiters.component
    fiscal = f"{spec.production_date.year}1231"
    for plb in plbs:
        elements = [e for reason, reference, amount in plb.pairs
                    for e in (f"{reason}{comp}{reference}", cents(amount))]
        w.segment("PLB", plb.provider, fiscal, *elements)


def _plb_total(plbs: list[_Plb]) -> int:
    return sum(amount for plb in plbs for _, _, amount in plb.pairs)


def _write_pharmacy_set(w: SegmentWriter, spec: Spec, index: int, pharmacy: Pharmacy,
                        count: int) -> SetSummary:
    """Multi-ST: one set whose payee is ``pharmacy``."""
    totals = _Totals(_claims(spec, index, count))
    plbs = _plbs(spec, str(index), pharmacy.npi, totals.paid)
    payment = totals.paid - _plb_total(plbs)
    st02 = f"{index + 1:04d}"
    _write_set_header(w, spec, st02, pharmacy, payment, pharmacy_ids=True)
    if count:
        w.segment("LX", "1")
    for number, claim in enumerate(_claims(spec, index, count), 1):
        _write_claim(w, spec, claim, _ccn(spec, index, number), None)
    _write_plbs(w, spec, plbs)
    segments = w.end_set(st02)
    return SetSummary(st02, pharmacy.npi, count, _dec(totals.paid), _dec(_plb_total(plbs)),
                      _dec(payment), segments)


def _write_central_set(w: SegmentWriter, spec: Spec, psao: Pharmacy,
                       pharmacies: list[Pharmacy], counts: list[int]) -> SetSummary:
    """Single-ST: the PSAO is the payee; each pharmacy is an LX/TS3 group."""
    totals = [_Totals(_claims(spec, i, counts[i])) for i in range(len(pharmacies))]
    plbs: list[_Plb] = []
    for i, pharmacy in enumerate(pharmacies):
        plbs += _plbs(spec, str(i), pharmacy.npi, totals[i].paid)
    paid = sum(t.paid for t in totals)
    plbs += _plbs(spec, "psao", psao.npi, paid - _plb_total(plbs), psao=True)
    payment = paid - _plb_total(plbs)
    _write_set_header(w, spec, "0001", psao, payment, pharmacy_ids=False)
    fiscal = f"{spec.production_date.year}1231"
    for i, pharmacy in enumerate(pharmacies):
        if not counts[i]:
            continue
        w.segment("LX", str(i + 1))
        w.segment("TS3", pharmacy.npi, "01", fiscal, str(totals[i].count),
                  cents(totals[i].charge))
        for number, claim in enumerate(_claims(spec, i, counts[i]), 1):
            _write_claim(w, spec, claim, _ccn(spec, i, number), pharmacy)
    _write_plbs(w, spec, plbs)
    segments = w.end_set("0001")
    return SetSummary("0001", psao.npi, sum(counts), _dec(paid), _dec(_plb_total(plbs)),
                      _dec(payment), segments)


def _ccn(spec: Spec, index: int, number: int) -> str:
    """CLP07, the payer claim control number: unique within the file."""
    return f"{spec.production_date:%y%m%d}{index:05d}{number:07d}"


def _dec(amount: int) -> Decimal:
    return Decimal(amount).scaleb(-2)
