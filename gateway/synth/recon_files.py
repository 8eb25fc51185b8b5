"""Writing a reconciliation scenario (:mod:`gateway.synth.recon`) to disk, with its truth.

    OUT/members.csv                 the roster (partners/members.csv columns)
    OUT/reconcile.toml              the three PBMs' rules (a site mappings/reconcile.toml)
    OUT/ncpdp/<pharmacy>-claims.ncpdp, <pharmacy>-responses.ncpdp   batch 1.2 files
    OUT/835/<pbm>-<cycle>.835       one payment cycle of one PBM
    OUT/truth/claims.csv            every claim's outcome, expected, paid, variance, age
    OUT/truth/summary.json          per pharmacy and PBM: PLB by category, DIR, payments

Each file is streamed; memory holds one pharmacy's cells (NCPDP) or three cycles of one PBM
(835), whatever the size.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from gateway.ncpdp import batch, writer
from gateway.ncpdp.model import RequestHeader, ResponseHeader
from gateway.ncpdp.transmission import Segment
from gateway.synth.pharmacies import Pharmacy
from gateway.synth.plb import fit_to_payment
from gateway.synth.recon import PBMS, TRUTH, ReconSpec, Scenario, SynthClaim
from gateway.synth.x12_writer import Delimiters, SegmentWriter, cents

TRUTH_COLUMNS = ("pharmacy", "pbm", "rx_number", "fill_number", "date_of_service", "outcome",
                 "expected", "paid", "variance", "age_days", "aging_bucket", "reason")


@dataclass(frozen=True)
class WrittenFile:
    path: Path
    partner: str  # who would send it: the PBM for 835s, the pharmacy for its NCPDP files


def write_scenario(spec: ReconSpec, out: Path) -> list[WrittenFile]:
    """Write every file of the scenario under ``out``; return the claim files in the order
    a gateway would receive them (the claims before the payments)."""
    scenario = Scenario(spec)
    for sub in ("ncpdp", "835", "truth"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    _write_members(out / "members.csv", scenario.pharmacies, out / "pharmacies")
    (out / "reconcile.toml").write_text(reconcile_toml(), encoding="utf-8")
    files = []
    for index, pharmacy in enumerate(scenario.pharmacies):
        claims, responses = (out / "ncpdp" / f"{pharmacy.pharmacy_id}-{kind}.ncpdp"
                             for kind in ("claims", "responses"))
        with claims.open("wb") as requests, responses.open("wb") as answers:
            _write_ncpdp(scenario, index, pharmacy, requests, answers)
        partner = f"pharmacy-{pharmacy.pharmacy_id.lower()}"
        files += [WrittenFile(claims, partner), WrittenFile(responses, partner)]
    summary: dict[str, dict[str, dict[str, Any]]] = {}
    for b, style in enumerate(PBMS):
        for cycle in range(spec.cycles):
            path = out / "835" / f"{style.id}-{cycle:03d}.835"
            if _write_835(scenario, b, cycle, path, summary):
                files.append(WrittenFile(path, style.id))
    _write_truth(scenario, out / "truth", summary)
    return files


def _write_members(path: Path, pharmacies: list[Pharmacy], inboxes: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        rows = csv.writer(handle)
        rows.writerow(("pharmacy_id", "name", "npi", "ncpdp_id", "tin", "active", "destination",
                       "formats"))
        for p in pharmacies:
            rows.writerow((p.pharmacy_id, p.name, p.npi, p.ncpdp_id, p.tin, "true",
                           f"folder:{inboxes / p.pharmacy_id / 'inbox'}", "835"))


def reconcile_toml() -> str:
    """The rules of the scenario's PBMs; pbm-alpha relies on the default CLP01 pattern."""
    patterns = {"rx+fill": "^(?P<rx>[0-9]+)(?P<fill>[0-9]{2})$",
                "rxFILLn": "^(?P<rx>[0-9]+)FILL(?P<fill>[0-9]+)$"}
    text = "# The synthetic scenario's PBMs (gateway synth recon).\n"
    for style in PBMS:
        text += (f'\n[[pbm]]\nid = "{style.id}"\nname = "{style.name}"\n'
                 f'partners = ["{style.id}"]\npayer_ids = ["{style.payer_id}"]\n'
                 f'bins = ["{style.bin}"]\n')
        if style.clp01 in patterns:
            text += f"clp01 = '{patterns[style.clp01]}'\n"
    return text


# -- NCPDP ------------------------------------------------------------------------------------


def _write_ncpdp(scenario: Scenario, index: int, pharmacy: Pharmacy, requests: BinaryIO,
                 responses: BinaryIO) -> None:
    spec = scenario.spec
    created = (spec.start.strftime("%Y%m%d"), "0600")
    for kind, out in (("T", requests), ("R", responses)):
        out.write(writer.record_bytes(batch.BatchHeader(
            kind, f"SYNTH{pharmacy.pharmacy_id}", "1", *created, "T", "12", "SYNTHPSAO")))
    details = 0
    for week in range(spec.weeks):
        for b in range(len(PBMS)):
            for claim in scenario.cell(index, b, week):
                for request, response in _exchanges(claim, pharmacy):
                    details += 1
                    reference = f"{details:010d}"
                    requests.write(writer.record_bytes(batch.BatchDetail.of(reference, request)))
                    responses.write(writer.record_bytes(
                        batch.BatchDetail.of(reference, response)))
    trailer = batch.BatchTrailer("1", str(details + 2), "")
    requests.write(writer.record_bytes(trailer))
    responses.write(writer.record_bytes(trailer))


def _exchanges(claim: SynthClaim, pharmacy: Pharmacy) -> Iterator[tuple[Any, Any]]:
    """The claim's transmissions and responses: B1, then a B3 rebill or a B2 reversal."""
    if claim.kind == "unmatched":
        return
    if claim.kind == "rejected":
        yield _request(claim, pharmacy, "B1"), _response(claim, pharmacy, "B1", "R", None)
        return
    first = claim.delta if claim.kind == "rebill" else claim.expected
    yield _request(claim, pharmacy, "B1"), _response(claim, pharmacy, "B1", "P", first)
    if claim.kind == "rebill":
        yield (_request(claim, pharmacy, "B3"),
               _response(claim, pharmacy, "B3", "P", claim.expected))
    if claim.kind in ("reversed", "reversed-paid"):
        yield _request(claim, pharmacy, "B2"), _response(claim, pharmacy, "B2", "A", None)


def _request(claim: SynthClaim, pharmacy: Pharmacy, code: str) -> Any:
    style = PBMS[claim.pbm]
    header = RequestHeader(style.bin, "D0", code, style.pcn, "1", "01", pharmacy.npi,
                           claim.dos, "SYNTHSW001")
    patient = claim.patient
    claim_fields: list[tuple[str, Any]] = [
        ("EM", "1"), ("D2", claim.rx.zfill(12)), ("E1", "03"), ("D7", claim.ndc),
        ("E7", Decimal(claim.quantity).quantize(Decimal("0.001"))), ("D3", claim.fill),
        ("D5", claim.days_supply), ("D6", "1"), ("D8", "0"), ("28", "EA")]
    groups: list[list[Segment]] = [[writer.segment("07", claim_fields)]]
    if code != "B2":
        groups[0].append(writer.segment("11", [
            ("D9", _dollars(claim.ingredient_submitted)), ("DC", _dollars(claim.fee_submitted)),
            ("DQ", _dollars(claim.gross + 500)), ("DU", _dollars(claim.gross)), ("DN", "01")]))
    shared = [
        writer.segment("04", [("C2", patient.cardholder_id), ("C1", "SYNGRP1"),
                              ("C3", "001"), ("C6", "1")]),
        writer.segment("01", [("C4", patient.birth_date), ("C5", "2"),
                              ("CA", patient.first_name), ("CB", patient.last_name)]),
    ]
    return writer.transmission(header, shared, groups)


def _response(claim: SynthClaim, pharmacy: Pharmacy, code: str, status: str,
              total: int | None) -> Any:
    header = ResponseHeader("D0", code, "1", "A", "01", pharmacy.npi, claim.dos)
    echo = writer.segment("22", [("EM", "1"), ("D2", claim.rx.zfill(12))])
    if status == "R":
        group = [writer.segment("21", [("AN", "R"), ("FA", 1), ("FB", "70")]), echo]
    elif total is None:
        group = [writer.segment("21", [("AN", status)]), echo]
    else:
        auth = f"SYNAUTH{claim.pbm}{claim.week:03d}{claim.number:06d}{code}"
        group = [writer.segment("21", [("AN", status), ("F3", auth)]), echo,
                 writer.segment("23", [
                     ("F5", _dollars(claim.copay)), ("F6", _dollars(claim.ingredient_paid)),
                     ("F7", _dollars(claim.fee_paid)), ("F9", _dollars(total))])]
    return writer.transmission(header, [], [group])


def _dollars(amount: int) -> Decimal:
    return Decimal(amount).scaleb(-2)


# -- X12 835 ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Clp:
    claim: SynthClaim
    status: str
    paid: int
    extras: tuple[tuple[str, str, int], ...]
    first: bool  # the claim's first payment carries the copay


def _cycle_claims(scenario: Scenario, b: int, cycle: int, p: int) -> list[_Clp]:
    """Every payment of PBM ``b``'s cycle ``cycle`` to pharmacy ``p``."""
    out = []
    for week in (cycle - 2, cycle - 1, cycle):
        for claim in scenario.cell(p, b, week):
            for n, (due, status, paid, extras) in enumerate(claim.payments()):
                if due == cycle:
                    out.append(_Clp(claim, status, paid, extras, n == 0 or status == "22"))
    return out


def _plbs(scenario: Scenario, b: int, cycle: int, p: int, paid: int) -> list[tuple[str, str,
                                                                                  int]]:
    """Fees, interest, recoupments and DIR for one payment; the net never below zero."""
    rng = random.Random(f"recon-plb:{scenario.spec.seed}:{b}:{cycle}:{p}")
    wanted = [("AH", "TXNFEE", rng.randint(10, 400))]
    if rng.random() < 0.5:
        wanted.append(("FB", f"DIR{scenario.spec.start.year}Q1", rng.randint(100, 3000)))
    if rng.random() < 0.3:
        wanted.append(("L6", "INTEREST", -rng.randint(1, 500)))
    if rng.random() < 0.3:
        wanted.append(("WO", f"RX{rng.randint(1000000, 9999999)}", rng.randint(100, 2000)))
    if rng.random() < 0.2:
        wanted.append(("CS", "ADJUSTMENT", rng.randint(-900, 900)))
    return fit_to_payment(paid, wanted)


def _write_835(scenario: Scenario, b: int, cycle: int, path: Path,
               summary: dict[str, dict[str, dict[str, Any]]]) -> bool:
    """One PBM's payment cycle as an 835; False (nothing written) when it pays nothing."""
    spec, style = scenario.spec, PBMS[b]
    parts = []
    for p, pharmacy in enumerate(scenario.pharmacies):
        clps = _cycle_claims(scenario, b, cycle, p)
        if clps:
            paid = sum(c.paid for c in clps)
            parts.append((pharmacy, clps, _plbs(scenario, b, cycle, p, paid)))
    if not parts:
        return False
    day = spec.payment_date(b, cycle)
    with path.open("w", encoding="ascii", newline="") as out:
        w = SegmentWriter(out, Delimiters())
        icn = f"{b + 1}{cycle:04d}{spec.seed % 10000:04d}"
        w.isa(["00", " " * 10, "00", " " * 10, "ZZ", style.id.upper().ljust(15), "ZZ",
               "EXAMPLEPSAO".ljust(15), day.strftime("%y%m%d"), "1200", "^", "00501", icn,
               "0", "P"])
        w.segment("GS", "HP", style.id.upper(), "EXAMPLEPSAO", day.strftime("%Y%m%d"), "1200",
                  str(int(icn)), "X", "005010X221A1")
        sets = [parts] if style.shape == "single-st" else [[part] for part in parts]
        for n, members in enumerate(sets):
            _write_set(w, scenario, b, cycle, n, members)
        w.segment("GE", str(len(sets)), str(int(icn)))
        w.segment("IEA", "1", icn)
    for pharmacy, clps, plbs in parts:
        _add_truth(summary, scenario, pharmacy, style.id, clps, plbs)
    return True


def _write_set(w: SegmentWriter, scenario: Scenario, b: int, cycle: int, n: int,
               members: list[tuple[Pharmacy, list[_Clp], list[tuple[str, str, int]]]]) -> None:
    spec, style = scenario.spec, PBMS[b]
    central = style.shape == "single-st"
    payee = scenario.psao if central else members[0][0]
    amount = sum(sum(c.paid for c in clps) - sum(a for _, _, a in plbs)
                 for _, clps, plbs in members)
    day = spec.payment_date(b, cycle).strftime("%Y%m%d")
    st02 = f"{n + 1:04d}"
    w.start_set()
    w.segment("ST", "835", st02)
    w.bpr(amount, day, style.payer_id)
    w.segment("TRN", "1", f"{b + 1}{cycle:03d}{n:04d}{spec.seed % 1000:03d}", style.payer_id)
    w.segment("REF", "EV", "EXAMPLEPSAO")
    w.segment("DTM", "405", day)
    w.segment("N1", "PR", style.name)
    w.segment("N3", "PO BOX 1000")
    w.segment("N4", "BRISTOL", "CT", "06010")
    w.segment("PER", "BL", "EDI SUPPORT", "TE", "8005550100")
    w.segment("N1", "PE", payee.name, "XX", payee.npi)
    w.segment("N3", payee.street)
    w.segment("N4", payee.city, payee.state, payee.postal_code)
    if not central:
        w.segment("REF", "D3", payee.ncpdp_id)
    w.segment("REF", "TJ", payee.tin)
    for group, (pharmacy, clps, _) in enumerate(members, 1):
        w.segment("LX", str(group))
        if central:
            w.segment("TS3", pharmacy.npi, "01", f"{spec.start.year}1231", str(len(clps)),
                      cents(sum(c.claim.gross * (-1 if c.status == "22" else 1) for c in clps)))
        for clp in clps:
            _write_clp(w, style.claim_id(clp.claim.rx, clp.claim.fill), clp,
                       pharmacy if central else None)
    for pharmacy, _, plbs in members:
        for i in range(0, len(plbs), 3):
            elements = []
            for reason, reference, plb_amount in plbs[i:i + 3]:
                elements += [f"{reason}:{reference}", cents(plb_amount)]
            w.segment("PLB", pharmacy.npi, f"{spec.start.year}1231", *elements)
    w.end_set(st02)


def _write_clp(w: SegmentWriter, claim_id: str, clp: _Clp, rendering: Pharmacy | None) -> None:
    claim, sign = clp.claim, -1 if clp.status == "22" else 1
    copay = claim.copay if clp.first else 0
    paid = abs(clp.paid)
    extras = sum(amount for _, _, amount in clp.extras)
    contractual = claim.gross - paid - copay - extras
    dos = claim.dos.strftime("%Y%m%d")
    w.segment("CLP", claim_id, clp.status, cents(sign * claim.gross), cents(sign * paid),
              cents(sign * copay), "13", f"{claim.pbm}{claim.week:03d}{claim.number:06d}",
              "01", "1")
    patient = claim.patient
    w.segment("NM1", "QC", "1", patient.last_name, patient.first_name, "", "", "", "MI",
              patient.cardholder_id)
    if rendering is not None:
        w.segment("NM1", "82", "2", rendering.name, "", "", "", "", "XX", rendering.npi)
    if clp.status == "22":
        w.segment("REF", "F8", f"{claim.pbm}{claim.week:03d}{claim.number:06d}")
    w.segment("DTM", "232", dos)
    w.segment("SVC", f"N4:{claim.ndc}", cents(sign * claim.gross), cents(sign * paid), "",
              str(claim.quantity))
    w.segment("DTM", "472", dos)
    co = [("45", contractual)] + [(reason, a) for group, reason, a in clp.extras
                                  if group == "CO"]
    elements: list[str] = []
    for reason, amount in co:
        if amount:
            elements += [reason, cents(sign * amount), ""]
    if elements:
        w.segment("CAS", "CO", *elements[:-1])
    if copay:
        w.segment("CAS", "PR", "3", cents(sign * copay))


# -- truth ------------------------------------------------------------------------------------


def _add_truth(summary: dict[str, dict[str, dict[str, Any]]], scenario: Scenario,
               pharmacy: Pharmacy, pbm: str, clps: list[_Clp],
               plbs: list[tuple[str, str, int]]) -> None:
    totals = summary.setdefault(pharmacy.pharmacy_id, {}).setdefault(pbm, {
        "plb": {}, "dir_claims": 0, "payments": 0, "paid": 0})
    totals["payments"] += 1
    totals["paid"] += sum(c.paid for c in clps) - sum(a for _, _, a in plbs)
    for reason, reference, amount in plbs:
        category = {"AH": "fee", "L6": "interest", "WO": "recoupment", "CS": "adjustment",
                    "FB": "dir" if reference.startswith("DIR") else "forwarding_balance"
                    }[reason]
        totals["plb"][category] = totals["plb"].get(category, 0) + amount


def _write_truth(scenario: Scenario, out: Path,
                 summary: dict[str, dict[str, dict[str, Any]]]) -> None:
    spec = scenario.spec
    with (out / "claims.csv").open("w", newline="", encoding="utf-8") as handle:
        rows = csv.writer(handle)
        rows.writerow(TRUTH_COLUMNS)
        for claim in scenario.claims():
            pharmacy = scenario.pharmacies[claim.pharmacy].pharmacy_id
            style = PBMS[claim.pbm]
            paid = sum(amount for _, _, amount, _ in claim.payments())
            expected = claim.truth_expected
            outcome = TRUTH[claim.kind]
            age = (spec.as_of - claim.dos).days if outcome == "unpaid" else None
            fill = "" if claim.kind == "unmatched" and not style.writes_fill else claim.fill
            reason = {"short-dir": "CO-295", "short": "CO-131"}.get(claim.kind, "")
            rows.writerow([
                pharmacy, style.id, claim.rx, fill, claim.dos.isoformat(), outcome,
                "" if expected is None else _dollars(expected), _dollars(paid),
                "" if expected is None else _dollars(paid - expected),
                "" if age is None else age, "" if age is None else _bucket(age), reason])
            if claim.kind == "short-dir":
                totals = summary.setdefault(pharmacy, {}).setdefault(style.id, {
                    "plb": {}, "dir_claims": 0, "payments": 0, "paid": 0})
                totals["dir_claims"] += claim.delta
    as_text = {pharmacy: {pbm: {
        "plb": {k: str(_dollars(v)) for k, v in sorted(t["plb"].items())},
        "dir_claims": str(_dollars(t["dir_claims"])),
        "dir_plb": str(_dollars(t["plb"].get("dir", 0))),
        "payments": t["payments"], "paid": str(_dollars(t["paid"]))}
        for pbm, t in sorted(by_pbm.items())} for pharmacy, by_pbm in sorted(summary.items())}
    document = {"seed": spec.seed, "as_of": spec.as_of.isoformat(),
                "period": [d.isoformat() for d in spec.period], "pharmacies": as_text}
    (out / "summary.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def _bucket(age: int) -> str:
    """Written out again on purpose: the truth must not borrow the reconciler's code."""
    if age <= 14:
        return "0-14"
    if age <= 30:
        return "15-30"
    if age <= 60:
        return "31-60"
    return "61-90" if age <= 90 else "90+"
