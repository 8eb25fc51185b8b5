"""Random-shape pharmacy 835 files with their truth: the conservation tests' generator.

``gateway.synth.x12_835`` writes one clean interchange of one of two shapes; real PBM files
are messier, and every mess is a chance to lose money silently (issue 10). This generator
draws, from one seed, a file of one or more interchanges, each with its own delimiter set and
line-break style, one or two functional groups each, and transaction sets of both central-pay
shapes — one ST per pharmacy (the pharmacy is the payee) or one ST paid to the PSAO with
LX/TS3 groups per pharmacy — with ST02 and GS06 repeated across groups and interchanges (legal:
they are unique only inside their envelope). It may start with a UTF-8 BOM, repeat an
interchange (same ISA06+ISA13) or a payment (same TRN02+TRN03+BPR02+BPR16) inside the file,
pay pharmacies that are not members, and poison the file with bytes a reader must refuse.

With the bytes comes the truth (:mod:`gateway.synth.truth`): every claim (CLP01, CLP07,
CLP04) and PLB and the pharmacy it belongs to, every set's BPR02 and PLB total, and each set's
fate — ``delivered`` (to a member), ``held`` (a pharmacy not in the roster), ``duplicate`` (a
repeated interchange or payment: held) or ``quarantined`` (the whole file is refused).
Every name and id is synthetic; money is integer cents inside, Decimal outside.
"""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from gateway.synth.pharmacies import Pharmacy, make_pharmacies
from gateway.synth.truth import ClaimTruth as ClaimTruth
from gateway.synth.truth import Fate, PlbTruth, SetTruth
from gateway.synth.truth import Truth as Truth
from gateway.synth.x12_writer import Delimiters, SegmentWriter, cents

# Delimiter sets real senders use (element, repetition, component, terminator, suffix).
DELIMITER_SETS = (
    Delimiters(element="*", repetition="^", component=":", terminator="~", suffix="\n"),
    Delimiters(element="|", repetition="{", component=">", terminator="~", suffix="\r\n"),
    Delimiters(element="^", repetition="!", component="\\", terminator="'", suffix=""),
    Delimiters(element="!", repetition="^", component=":", terminator="\n", suffix=""),
    Delimiters(element="*", repetition="^", component=">", terminator="~", suffix=""),
    Delimiters(element="*", repetition="^", component=":", terminator="~", suffix="\r\n"),
)
BOM = b"\xef\xbb\xbf"
_NAMES = ("SAMPLE", "TESTER", "EXAMPLE", "DEMO", "SYNTH", "MOCK")


@dataclass(frozen=True)
class Pool:
    """Who may appear in a file: roster members, pharmacies the roster does not know, the
    PSAO (payee of central pay, PLB01 of its own fees)."""

    members: tuple[Pharmacy, ...]
    strangers: tuple[Pharmacy, ...]
    psao: Pharmacy


@dataclass(frozen=True)
class Shape:
    name: str
    data: bytes
    truth: Truth


@dataclass(frozen=True)
class _Claim:
    npi: str
    rx: str
    ccn: str
    status: str  # 1 paid, 22 reversal, 4 denied
    charge: int  # cents (negative on a reversal)
    copay: int
    contractual: int
    ndc: str

    @property
    def paid(self) -> int:
        return self.charge - self.copay - self.contractual


@dataclass(frozen=True)
class _Payment:
    """One transaction set's content, independent of its envelope, so it can be repeated."""

    key: int
    shape: str
    payee: Pharmacy
    pharmacies: tuple[Pharmacy, ...]
    claims: tuple[_Claim, ...]
    plbs: tuple[tuple[str, str, str, int], ...]  # (PLB01, reason, reference, cents)
    trace: str

    @property
    def paid(self) -> int:
        return sum(c.paid for c in self.claims)

    @property
    def plb(self) -> int:
        return sum(p[3] for p in self.plbs)


class _Draw:
    """The state of one file being drawn: its seed, pool, date and what was written."""

    def __init__(self, seed: int, pool: Pool) -> None:
        self.seed, self.pool = seed, pool
        self.rng = random.Random(f"x12-shapes:{seed}")
        self.day = date(2026, 1, 5) + timedelta(days=seed % 300)
        self.members = frozenset(p.npi for p in pool.members)
        self.payments: list[_Payment] = []
        self.sets: list[SetTruth] = []


def generate(seed: int, pool: Pool, *, poison_rate: float = 0.08,
             duplicate_rate: float = 0.12) -> Shape:
    """One file of random shape from ``seed`` (the same seed gives the same bytes and truth)."""
    draw = _Draw(seed, pool)
    rng = draw.rng
    written: list[tuple[bytes, list[SetTruth]]] = []
    chunks: list[bytes] = []
    for ordinal in range(rng.choice((1, 1, 2, 2, 3))):
        if written and rng.random() < duplicate_rate:
            data, sets = rng.choice(written)  # the same interchange again: ISA06+ISA13 repeated
            draw.sets += [replace(s, interchange=ordinal, fate=Fate.DUPLICATE) for s in sets]
        else:
            data, sets = _interchange(draw, ordinal, duplicate_rate)
            written.append((data, sets))
        chunks.append(data)
    body = b"".join(chunks)
    if rng.random() < 0.15:
        body = BOM + body
    truth = Truth(tuple(draw.sets), quarantined=False)
    if rng.random() < poison_rate:
        body, poison = _poison(rng, body)
        truth = Truth(tuple(replace(s, fate=Fate.QUARANTINED) for s in draw.sets), True, poison)
    return Shape(f"shape-{seed:05d}.835", body, truth)


def combine(name: str, originals: Sequence[Shape]) -> Shape:
    """A file made of files sent before (their interchanges again, ISA13 unchanged): every
    set in it is a duplicate across files, once the originals were received."""
    if any(s.truth.quarantined for s in originals):
        raise ValueError("a quarantined original was never received: nothing to duplicate")
    body = b"".join(s.data.removeprefix(BOM) for s in originals)
    sets = tuple(replace(t, fate=Fate.DUPLICATE) for s in originals for t in s.truth.sets)
    return Shape(name, body, Truth(sets, quarantined=False))


def _interchange(draw: _Draw, ordinal: int,
                 duplicate_rate: float) -> tuple[bytes, list[SetTruth]]:
    """ISA .. IEA with its own delimiters, one or two groups, ST02/GS06 counting from 1."""
    rng = draw.rng
    d = rng.choice(DELIMITER_SETS)
    isa13 = f"{draw.seed % 100000:05d}{ordinal + 1:04d}"
    out = io.StringIO()
    w = SegmentWriter(out, d)
    w.isa(["00", " " * 10, "00", " " * 10, "ZZ", "EXAMPLEPBM".ljust(15), "ZZ",
           "EXAMPLEPSAO".ljust(15), draw.day.strftime("%y%m%d"), "1200", d.repetition,
           "00501", isa13, "0", "P"])
    groups = rng.choice((1, 1, 2))
    made: list[SetTruth] = []
    for group in range(groups):
        gs06 = str(group + 1)
        w.segment("GS", "HP", "EXAMPLEPBM", "EXAMPLEPSAO", draw.day.strftime("%Y%m%d"),
                  "1200", gs06, "X", "005010X221A1")
        count = rng.choice((1, 1, 2, 3))
        for number in range(count):
            st02 = f"{number + 1:04d}"
            if draw.payments and rng.random() < duplicate_rate:
                payment, fate = rng.choice(draw.payments), Fate.DUPLICATE  # paid again
            else:
                payment, fate = _payment(draw, len(draw.payments)), Fate.DELIVERED
                draw.payments.append(payment)
            _write_set(w, d, draw.day, st02, payment)
            truth = _set_truth(draw, payment, ordinal, isa13, gs06, st02, fate)
            made.append(truth)
            draw.sets.append(truth)
        w.segment("GE", str(count), gs06)
    w.segment("IEA", str(groups), isa13)
    return out.getvalue().encode("ascii"), made


def _payment(draw: _Draw, key: int) -> _Payment:
    """A set's content: a pharmacy-paid set (10% to a pharmacy not in the roster) or a
    central pay to the PSAO naming one to three pharmacies."""
    rng = random.Random(f"x12-shapes:{draw.seed}:payment:{key}")
    pool = draw.pool
    trace = f"{draw.seed:05d}{key:04d}"

    def pharmacy() -> Pharmacy:
        strangers = pool.strangers and rng.random() < 0.1
        return rng.choice(pool.strangers if strangers else pool.members)

    if rng.random() < 0.5:
        payee = pharmacy()
        pharmacies: tuple[Pharmacy, ...] = (payee,)
        shape = "pharmacy"
    else:
        payee, shape = pool.psao, "central"
        chosen: dict[str, Pharmacy] = {}
        for _ in range(rng.randint(1, 3)):
            p = pharmacy()
            chosen[p.npi] = p
        pharmacies = tuple(chosen.values())
    claims: list[_Claim] = []
    plbs: list[tuple[str, str, str, int]] = []
    for p in pharmacies:
        mine = [_claim(rng, p.npi, f"{trace}{len(claims) + n:03d}")
                for n in range(rng.randint(1, 4))]
        claims += mine
        plbs += _pharmacy_plbs(rng, p.npi, sum(c.paid for c in mine))
    if shape == "central" and rng.random() < 0.5:
        plbs.append((pool.psao.npi, "AH", "TXNFEE", rng.randint(1, 300)))
    net = sum(c.paid for c in claims) - sum(p[3] for p in plbs)
    if net < 0:  # never a negative BPR02: the payer carries the balance forward
        plbs.append((payee.npi, "FB", "BALFWD", net))
    return _Payment(key, shape, payee, pharmacies, tuple(claims), tuple(plbs), trace)


def _claim(rng: random.Random, npi: str, ccn: str) -> _Claim:
    roll = rng.random()
    status = "22" if roll < 0.08 else "4" if roll < 0.14 else "1"
    charge = rng.randint(500, 40000)
    copay = 0 if status == "4" else min(rng.choice((0, 0, 500, 1000)), charge // 2)
    contractual = charge if status == "4" else rng.randint(0, (charge - copay) * 3 // 10)
    sign = -1 if status == "22" else 1
    rx = f"{rng.randint(1000000, 9999999)}{rng.randint(0, 99):02d}"
    ndc = f"{rng.randint(0, 99999):05d}{rng.randint(0, 999999):06d}"
    return _Claim(npi, rx, ccn, status, sign * charge, sign * copay, sign * contractual, ndc)


def _pharmacy_plbs(rng: random.Random, npi: str, paid: int) -> list[tuple[str, str, str, int]]:
    if rng.random() < 0.5:
        return []
    plbs = [(npi, "WO", f"RX{rng.randint(100000, 999999)}", rng.randint(1, max(1, paid // 4)))]
    if rng.random() < 0.4:
        plbs.append((npi, "L6", "INTEREST", -rng.randint(1, 900)))
    return plbs


def _write_set(w: SegmentWriter, d: Delimiters, day: date, st02: str, pay: _Payment) -> None:
    """ST..SE of one payment, in the interchange's delimiters."""
    stamp = day.strftime("%Y%m%d")
    payment = pay.paid - pay.plb
    w.start_set()
    w.segment("ST", "835", st02)
    w.bpr(payment, stamp)
    w.segment("TRN", "1", pay.trace, "1999999999")
    w.segment("REF", "EV", "EXAMPLEPSAO")
    w.segment("DTM", "405", stamp)
    w.segment("N1", "PR", "EXAMPLE PBM ONE")
    w.segment("N3", "PO BOX 1000")
    w.segment("N4", "BRISTOL", "CT", "06010")
    w.segment("PER", "BL", "EDI SUPPORT", "TE", "8005550100")
    w.segment("N1", "PE", pay.payee.name, "XX", pay.payee.npi)
    w.segment("N4", pay.payee.city, pay.payee.state, pay.payee.postal_code)
    if pay.shape == "pharmacy":
        w.segment("REF", "D3", pay.payee.ncpdp_id)
    for group, pharmacy in enumerate(pay.pharmacies, 1):
        mine = [c for c in pay.claims if c.npi == pharmacy.npi]
        w.segment("LX", str(group))
        if pay.shape == "central":
            w.segment("TS3", pharmacy.npi, "01", f"{day.year}1231", str(len(mine)),
                      cents(sum(c.charge for c in mine)))
        for claim in mine:
            _write_claim(w, d, stamp, claim, pharmacy if pay.shape == "central" else None)
    for provider, reason, reference, amount in pay.plbs:
        w.segment("PLB", provider, f"{day.year}1231", f"{reason}{d.component}{reference}",
                  cents(amount))
    w.end_set(st02)


def _write_claim(w: SegmentWriter, d: Delimiters, stamp: str, claim: _Claim,
                 rendering: Pharmacy | None) -> None:
    w.segment("CLP", claim.rx, claim.status, cents(claim.charge), cents(claim.paid),
              cents(claim.copay), "MC", claim.ccn, "01", "1")
    w.segment("NM1", "QC", "1", _NAMES[int(claim.ccn) % len(_NAMES)], "PAT", "", "", "",
              "MI", f"ZZ{claim.ccn[-9:]}")
    if rendering is not None:
        w.segment("NM1", "82", "2", rendering.name, "", "", "", "", "XX", rendering.npi)
    w.segment("DTM", "232", stamp)
    w.segment("SVC", f"N4{d.component}{claim.ndc}", cents(claim.charge), cents(claim.paid), "",
              "30")
    w.segment("DTM", "472", stamp)
    if claim.contractual:
        w.segment("CAS", "CO", "45" if claim.status != "4" else "16", cents(claim.contractual))
    if claim.copay:
        w.segment("CAS", "PR", "3", cents(claim.copay))


def _set_truth(draw: _Draw, pay: _Payment, ordinal: int, isa13: str, gs06: str, st02: str,
               fate: Fate) -> SetTruth:
    claims = tuple(ClaimTruth(c.npi, c.rx, c.ccn, _dec(c.paid)) for c in pay.claims)
    plbs = tuple(PlbTruth(npi, reason, reference, _dec(amount))
                 for npi, reason, reference, amount in pay.plbs)
    return SetTruth(ordinal, isa13, gs06, st02, pay.shape, _dec(pay.paid - pay.plb),
                    _dec(pay.plb), claims, fate, pay.trace, draw.members, plbs,
                    draw.pool.psao.npi)


# Poisons: bytes the reader must refuse, each where a real file was seen to carry them.
_POISONS = ("superscript-se01", "truncated", "nul-in-amount", "micro-in-isa")


def _poison(rng: random.Random, body: bytes) -> tuple[bytes, str]:
    kind = rng.choice(_POISONS)
    if kind == "truncated":
        return body[: len(body) * 2 // 3], kind
    if kind == "micro-in-isa":
        at = body.find(b"ISA") + 70  # inside ISA09 (the date): the ISA is no longer 106 bytes
        return body[:at] + "µ".encode() + body[at + 1 :], kind
    marker = b"SE" if kind == "superscript-se01" else b"CLP"
    found = [i for i in range(len(body)) if body.startswith(marker, i)
             and body[i - 1 : i] in (b"~", b"'", b"\n")]
    at = rng.choice(found) + len(marker) + 1
    if kind == "superscript-se01":
        return body[:at] + "¹".encode() + body[at:], kind
    at = body.index(body[at - 1 : at], body.index(body[at - 1 : at], at) + 1) + 1  # CLP03
    return body[:at] + b"\x00" + body[at:], kind


def make_pool(seed: int, *, members: int = 12, strangers: int = 3) -> Pool:
    """Members, strangers and a PSAO that belong to nobody (see gateway.synth.pharmacies)."""
    everyone = make_pharmacies(seed, members + strangers + 1)
    psao = replace(everyone[-1], pharmacy_id="PSAO", name="EXAMPLE PSAO SERVICES")
    return Pool(tuple(everyone[:members]), tuple(everyone[members:-1]), psao)


def _dec(amount: int) -> Decimal:
    return Decimal(amount).scaleb(-2)

