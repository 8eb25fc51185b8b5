"""Synthetic NCPDP batch files: claim requests and the matching payer responses.

Deterministic by seed and never real data: people, prescribers and pharmacies are drawn from
small made-up lists, identifiers are random digits with an obviously synthetic shape (BIN
``99xxxx``, cardholder ``SYN...``, NDC labeler ``99999``). Each generated *exchange* is one
request transmission and its response: paid, rejected with reject codes (and occurrence
indicators), or a B2 reversal of an earlier paid claim that the payer approves.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import BinaryIO

from gateway.ncpdp import batch, writer
from gateway.ncpdp.model import RequestHeader, ResponseHeader
from gateway.ncpdp.transmission import Segment, Transmission

FIRST_NAMES = ("ALEX", "SAM", "ROBIN", "JORDAN", "CASEY", "TAYLOR", "MORGAN", "JAMIE")
LAST_NAMES = ("TESTPATIENT", "SAMPLE", "EXAMPLE", "SYNTHETIC", "DEMO", "PLACEHOLDER")
PRESCRIBERS = ("FICTIONAL", "MADEUP", "NOTREAL", "IMAGINARY")
CITIES = (("SPRINGFIELD", "ZZ"), ("RIVERTON", "ZZ"), ("LAKEVIEW", "ZZ"))
DRUGS = (  # (synthetic NDC, unit of measure, ingredient cost per unit)
    ("99999000101", "EA", Decimal("0.85")),
    ("99999000202", "EA", Decimal("2.10")),
    ("99999000303", "ML", Decimal("0.40")),
    ("99999000404", "GM", Decimal("1.25")),
)
REJECTS = ("70", "75", "76", "79", "65", "25", "07", "88")


@dataclass(frozen=True)
class SynthOptions:
    seed: int = 1
    transmissions: int = 10  # B1 transmissions; reversals come on top
    transactions_per_transmission: int = 1  # 1..4 claims per B1 transmission
    reject_rate: float = 0.2
    reversal_rate: float = 0.1  # share of paid claims later reversed (B2)
    service_date: date = date(2026, 1, 15)
    batch_number: str = "1"
    sender_id: str = "SYNTHPHARMACYSWITCH"
    receiver_id: str = "SYNTHPBM"


@dataclass(frozen=True)
class Exchange:
    """One request transmission, its 880-K5 reference and the payer's response."""

    reference: str
    request: Transmission
    response: Transmission


def exchanges(options: SynthOptions) -> Iterator[Exchange]:
    """The exchanges of a batch, in order; the same seed always gives the same bytes."""
    rng = random.Random(options.seed)
    pharmacy = "9" + "".join(rng.choice("0123456789") for _ in range(9))
    count = 0
    for _ in range(options.transmissions):
        patient = _patient(rng)
        claims = [_claim(rng) for _ in range(max(1, min(4, options.transactions_per_transmission)))]
        outcomes = ["rejected" if rng.random() < options.reject_rate else "paid" for _ in claims]
        count += 1
        yield _billing(rng, options, pharmacy, patient, claims, outcomes, f"{count:010d}")
        for claim, outcome in zip(claims, outcomes, strict=True):
            if outcome == "paid" and rng.random() < options.reversal_rate:
                count += 1
                yield _reversal(options, pharmacy, claim, f"{count:010d}")


def write_batches(options: SynthOptions, requests: BinaryIO, responses: BinaryIO) -> int:
    """Write the request batch and the matching response batch; returns the detail count."""
    created = (options.service_date.strftime("%Y%m%d"), "1200")
    headers = [
        batch.BatchHeader(kind, sender, options.batch_number, *created, "T", "12", receiver)
        for kind, sender, receiver in (
            ("T", options.sender_id, options.receiver_id),
            ("R", options.receiver_id, options.sender_id),
        )
    ]
    for header, out in zip(headers, (requests, responses), strict=True):
        out.write(writer.record_bytes(header))
    details = 0
    for exchange in exchanges(options):
        requests.write(
            writer.record_bytes(batch.BatchDetail.of(exchange.reference, exchange.request))
        )
        responses.write(
            writer.record_bytes(batch.BatchDetail.of(exchange.reference, exchange.response))
        )
        details += 1
    trailer = batch.BatchTrailer(options.batch_number, str(details + 2), "")
    requests.write(writer.record_bytes(trailer))
    responses.write(writer.record_bytes(trailer))
    return details


@dataclass(frozen=True)
class _Claim:
    rx_number: str
    ndc: str
    unit: str
    quantity: Decimal
    days_supply: int
    fill_number: int
    ingredient_cost: Decimal
    dispensing_fee: Decimal
    prescriber_npi: str
    prescriber: str
    dur_reasons: tuple[str, ...]


def _patient(rng: random.Random) -> dict[str, writer.Value]:
    city, state = rng.choice(CITIES)
    born = date(1940, 1, 1) + timedelta(days=rng.randrange(25000))
    return {
        "cardholder": "SYN" + "".join(rng.choice("0123456789") for _ in range(9)),
        "group": rng.choice(("SYNGRP1", "SYNGRP2")),
        "first": rng.choice(FIRST_NAMES),
        "last": rng.choice(LAST_NAMES),
        "born": born,
        "gender": rng.choice("12"),
        "city": city,
        "state": state,
    }


def _claim(rng: random.Random) -> _Claim:
    ndc, unit, unit_cost = rng.choice(DRUGS)
    quantity = Decimal(rng.choice((30, 60, 90, 120))) if unit == "EA" else Decimal("100.500")
    return _Claim(
        rx_number=str(rng.randrange(1_000_000, 999_999_999)),
        ndc=ndc,
        unit=unit,
        quantity=quantity.quantize(Decimal("0.001")),
        days_supply=rng.choice((30, 90)),
        fill_number=rng.randrange(0, 6),
        ingredient_cost=(quantity * unit_cost).quantize(Decimal("0.01")),
        dispensing_fee=Decimal(rng.choice(("1.75", "2.50", "10.00"))),
        prescriber_npi="9" + "".join(rng.choice("0123456789") for _ in range(9)),
        prescriber=rng.choice(PRESCRIBERS),
        dur_reasons=tuple(rng.sample(("DD", "ER", "TD", "LR"), rng.choice((0, 0, 1, 2)))),
    )


def _request_header(options: SynthOptions, pharmacy: str, code: str, count: int) -> RequestHeader:
    return RequestHeader(
        "999001",
        "D0",
        code,
        "SYNTHPCN",
        str(count),
        "01",
        pharmacy,
        options.service_date,
        "SYNTHSW001",
    )


def _billing(
    rng: random.Random,
    options: SynthOptions,
    pharmacy: str,
    patient: dict[str, writer.Value],
    claims: list[_Claim],
    outcomes: list[str],
    reference: str,
) -> Exchange:
    header = _request_header(options, pharmacy, "B1", len(claims))
    insurance = writer.segment(
        "04", [("C2", patient["cardholder"]), ("C1", patient["group"]), ("C3", "001"), ("C6", "1")]
    )
    person = writer.segment(
        "01",
        [
            ("C4", patient["born"]),
            ("C5", patient["gender"]),
            ("CA", patient["first"]),
            ("CB", patient["last"]),
            ("CN", patient["city"]),
            ("CO", patient["state"]),
        ],
    )
    groups = [_billing_group(claim) for claim in claims]
    request = writer.transmission(header, [insurance, person], groups)
    response_groups = [
        _billing_result(rng, claim, outcome)
        for claim, outcome in zip(claims, outcomes, strict=True)
    ]
    reply = ResponseHeader("D0", "B1", str(len(claims)), "A", "01", pharmacy, options.service_date)
    segments = (
        [writer.segment("20", [("F4", "SYNTHETIC PAYER MESSAGE")])] if rng.random() < 0.3 else []
    )
    return Exchange(reference, request, writer.transmission(reply, segments, response_groups))


def _prescription(claim: _Claim) -> list[tuple[str, writer.Value]]:
    """What names the prescription in a claim segment (07): the Rx number and its NDC."""
    return [("EM", "1"), ("D2", claim.rx_number), ("E1", "03"), ("D7", claim.ndc)]


def _billing_group(claim: _Claim) -> list[Segment]:
    gross = claim.ingredient_cost + claim.dispensing_fee
    group = [
        writer.segment(
            "07",
            [
                *_prescription(claim),
                ("E7", claim.quantity),
                ("D3", claim.fill_number),
                ("D5", claim.days_supply),
                ("D6", "1"),
                ("D8", "0"),
                ("DE", date(2026, 1, 2)),
                ("DF", 5),
                ("DJ", "1"),
                ("28", claim.unit),
            ],
        ),
        writer.segment(
            "11",
            [
                ("D9", claim.ingredient_cost),
                ("DC", claim.dispensing_fee),
                ("DQ", gross + Decimal("5.00")),
                ("DU", gross),
                ("DN", "01"),
            ],
        ),
        writer.segment(
            "03", [("EZ", "01"), ("DB", claim.prescriber_npi), ("DR", claim.prescriber)]
        ),
    ]
    if claim.dur_reasons:
        pairs: list[tuple[str, writer.Value]] = []
        for counter, reason in enumerate(claim.dur_reasons, start=1):
            pairs += [("7E", counter), ("E4", reason), ("E5", "M0"), ("E6", "1B"), ("8E", 11)]
        group.append(writer.segment("08", pairs))
    return group


def _billing_result(rng: random.Random, claim: _Claim, outcome: str) -> list[Segment]:
    echo = writer.segment("22", [("EM", "1"), ("D2", claim.rx_number)])
    if outcome == "rejected":
        codes = rng.sample(REJECTS, rng.choice((1, 1, 2)))
        pairs: list[tuple[str, writer.Value]] = [("AN", "R"), ("FA", len(codes))]
        for code in codes:
            pairs.append(("FB", code))
            if rng.random() < 0.3:
                pairs.append(("4F", 1))
        return [writer.segment("21", pairs), echo]
    copay = Decimal(rng.choice(("0.00", "5.00", "10.00", "35.00")))
    total = claim.ingredient_cost + claim.dispensing_fee - copay
    status = writer.segment("21", [("AN", "P"), ("F3", f"SYNAUTH{rng.randrange(10**9):09d}")])
    pricing = writer.segment(
        "23",
        [
            ("F5", copay),
            ("F6", claim.ingredient_cost),
            ("F7", claim.dispensing_fee),
            ("F9", total),
            ("FM", "01"),
            ("FI", copay),
        ],
    )
    return [status, echo, pricing]


def _reversal(options: SynthOptions, pharmacy: str, claim: _Claim, reference: str) -> Exchange:
    header = _request_header(options, pharmacy, "B2", 1)
    group = [
        writer.segment("07", [*_prescription(claim), ("D3", claim.fill_number)])
    ]
    request = writer.transmission(header, [], [group])
    reply = ResponseHeader("D0", "B2", "1", "A", "01", pharmacy, options.service_date)
    result = [
        writer.segment("21", [("AN", "A")]),
        writer.segment("22", [("EM", "1"), ("D2", claim.rx_number)]),
    ]
    return Exchange(reference, request, writer.transmission(reply, [], [result]))
