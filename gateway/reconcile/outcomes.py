"""What happened to each claim: its outcome, variance and age.

A fill's **adjudication** (:func:`adjudicated`) is read in the order it was recorded: a paid
B1 or B3 (112-AN P, or D when the original never reached us) sets the amount expected — the
response's 509-F9 total amount paid, a rebill's replacing the original's; an approved B2
(A, or S) reverses the claim, so nothing is expected; a rejection stands only if nothing was
paid before it. Its **payments** are netted: reversals (CLP02=22) carry negative CLP04, so
the sum of CLP04 is what the pharmacy keeps.

Outcomes (:data:`OUTCOMES`), with ``variance = paid - expected``:

- ``paid`` — paid as adjudicated (however many payments it took, e.g. split over two 835s);
- ``short-paid`` / ``over-paid`` — with the variance and the CAS reasons of its payments;
- ``unpaid`` — adjudicated paid, no payment by the as-of date: age in days from the date of
  service and its bucket (:data:`BUCKETS`; 0-14 is the Part D prompt-pay window);
- ``reversed`` — reversed at the point of sale and nothing (left) paid;
- ``paid-twice`` — more than expected, from two or more payments not reversed;
- ``rejected`` — rejected at the point of sale and not paid;
- ``no-response`` — a request the ledger has no response for (expected unknown);
- ``unmatched-payment`` — paid without a matching claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from gateway.reconcile.amounts import parse_adjustments
from gateway.reconcile.facts import ClaimPaymentFact, RequestFact
from gateway.reconcile.matching import Adjudication, Fill

OUTCOMES = ("paid", "short-paid", "over-paid", "unpaid", "reversed", "paid-twice", "rejected",
            "no-response", "unmatched-payment")
BUCKETS = ("0-14", "15-30", "31-60", "61-90", "90+")
_REVERSAL_ACCEPTED = ("A", "S")


@dataclass(frozen=True)
class ClaimOutcome:
    """One row of a reconciliation report: a claim (or an unmatched payment) and its fate."""

    pharmacy: str
    pbm: str
    rx_number: str
    fill_number: int | None
    date_of_service: date | None
    outcome: str
    expected: Decimal | None  # 509-F9 as adjudicated; 0 when reversed or rejected
    paid: Decimal  # sum of CLP04 (reversals netted)
    variance: Decimal | None  # paid - expected
    age_days: int | None  # unpaid only
    aging_bucket: str | None
    payments: int  # CLP rows
    reversals: int  # CLP02=22 rows
    dir: Decimal  # CARC 295 on its payments
    adjustments: str  # CAS by group-reason with amounts: "CO-295 1.50; CO-45 12.00"
    transaction_code: str | None  # of the adjudication that counts (B1, B3, B2)
    response_status: str | None  # 112-AN
    authorization_number: str | None  # 503-F3
    bin: str | None
    pcn: str | None
    group_id: str | None
    ndc: str | None
    quantity: str | None
    days_supply: int | None
    submitted: Decimal | None  # 430-DU gross amount due
    traces: str  # TRN02 of its payments, "|"-joined
    payer_claim_numbers: str  # CLP07 of its payments


@dataclass(frozen=True)
class Adjudicated:
    state: str | None  # paid | reversed | rejected | no-response | None (nothing)
    expected: int | None  # cents
    counts: Adjudication | None  # the adjudication the state comes from


def adjudicated(adjudications: Sequence[Adjudication]) -> Adjudicated:
    """The state a fill's adjudications leave it in (module docstring)."""
    state: str | None = None
    expected: int | None = None
    counts: Adjudication | None = None
    for adjudication in adjudications:
        response = adjudication.response
        code = adjudication.transaction_code
        rejected = response is not None and (response.status == "R"
                                             or bool(response.reject_codes)
                                             or response.header_status == "R")
        if code == "B2":
            if response is not None and not rejected and response.status in _REVERSAL_ACCEPTED:
                state, expected, counts = "reversed", 0, adjudication
        elif response is None:
            if state is None:
                state, counts = "no-response", adjudication
        elif rejected:
            if state in (None, "no-response", "rejected"):
                state, expected, counts = "rejected", 0, adjudication
        elif response.status == "D" and state == "paid":
            continue  # a resubmission of a claim already paid: the original stands
        else:
            state, expected, counts = "paid", response.total_paid or 0, adjudication
    return Adjudicated(state, expected, counts)


def fill_outcome(pharmacy: str, rx_number: str, fill: Fill, as_of: date) -> ClaimOutcome:
    judged = adjudicated(fill.adjudications)
    payments = fill.payments
    net = sum(p.paid for p in payments)
    outcome = _decide(judged, payments, net)
    age = None
    if outcome == "unpaid" and fill.date_of_service is not None:
        age = (as_of - fill.date_of_service).days
    request = _details(fill, judged.counts)
    response = judged.counts.response if judged.counts else None
    return _outcome_row(
        pharmacy, fill.pbm, rx_number, fill.fill_number, fill.date_of_service, outcome,
        judged.expected if judged.state != "no-response" else None, payments, age, request,
        response.status if response else None,
        response.authorization_number if response else None,
        judged.counts.transaction_code if judged.counts else None)


def unmatched_outcome(pharmacy: str, rx_number: str,
                      payments: Sequence[ClaimPaymentFact]) -> ClaimOutcome:
    first = payments[0]
    return _outcome_row(pharmacy, first.pbm, rx_number, first.fill_number,
                        first.date_of_service, "unmatched-payment", None, payments, None, None,
                        None, None, None)


def _decide(judged: Adjudicated, payments: Sequence[ClaimPaymentFact], net: int) -> str:
    expected = judged.expected or 0
    if judged.state == "no-response":
        return "no-response"
    if judged.state in ("rejected", "reversed"):
        if net == 0:
            return str(judged.state)
        return "over-paid" if net > 0 else "short-paid"
    if not payments:
        return "paid" if expected == 0 else "unpaid"
    if net == expected:
        return "paid"
    if net > expected:
        positive = sum(1 for p in payments if p.status != "22" and p.paid > 0)
        reversed_ = sum(1 for p in payments if p.status == "22")
        return "paid-twice" if positive - reversed_ >= 2 else "over-paid"
    return "short-paid"


def bucket(age_days: int) -> str:
    for limit, name in ((14, "0-14"), (30, "15-30"), (60, "31-60"), (90, "61-90")):
        if age_days <= limit:
            return name
    return "90+"


def dollars(amount: int | None) -> Decimal | None:
    return None if amount is None else Decimal(amount).scaleb(-2)


def _details(fill: Fill, counts: Adjudication | None) -> RequestFact | None:
    """The request that describes the claim: the one that counts, else the latest billing."""
    if counts is not None and counts.request is not None and counts.transaction_code != "B2":
        return counts.request
    billed = [a.request for a in fill.adjudications
              if a.request is not None and a.transaction_code != "B2"]
    return billed[-1] if billed else None


def _outcome_row(pharmacy: str, pbm: str, rx_number: str, fill_number: int | None,
                 dos: date | None, outcome: str, expected: int | None,
                 payments: Sequence[ClaimPaymentFact], age: int | None,
                 request: RequestFact | None, status: str | None, authorization: str | None,
                 code: str | None) -> ClaimOutcome:
    net = sum(p.paid for p in payments)
    adjustments: dict[str, int] = {}
    for payment in payments:
        for key, amount in parse_adjustments(payment.adjustments).items():
            adjustments[key] = adjustments.get(key, 0) + amount
    paid = dollars(net)
    assert paid is not None
    expected_dollars = dollars(expected)
    return ClaimOutcome(
        pharmacy=pharmacy, pbm=pbm, rx_number=rx_number, fill_number=fill_number,
        date_of_service=dos, outcome=outcome, expected=expected_dollars, paid=paid,
        variance=None if expected_dollars is None else paid - expected_dollars,
        age_days=age, aging_bucket=None if age is None else bucket(age),
        payments=len(payments), reversals=sum(1 for p in payments if p.status == "22"),
        dir=dollars(sum(p.dir_amount for p in payments)) or Decimal(0),
        adjustments="; ".join(f"{key} {dollars(amount)}"
                              for key, amount in sorted(adjustments.items()) if amount),
        transaction_code=code, response_status=status, authorization_number=authorization,
        bin=request.bin if request else None, pcn=request.pcn if request else None,
        group_id=request.group_id if request else None, ndc=request.ndc if request else None,
        quantity=request.quantity if request else None,
        days_supply=request.days_supply if request else None,
        submitted=dollars(request.gross_amount_due) if request else None,
        traces="|".join(dict.fromkeys(p.trace_number or "" for p in payments)),
        payer_claim_numbers="|".join(dict.fromkeys(
            p.payer_claim_control_number or "" for p in payments)),
    )
