"""A reconciliation run: every claim's outcome, streamed, and the summary built along the way.

:func:`reconcile` reads one consistent snapshot of the ledger. Claims are those whose date of
service falls in the period (``Scope.start..end``), judged against every payment made by the
as-of date; the money of the period — each payment's share for the pharmacy, PLB items by
category, DIR — is taken by payment date (BPR16) within the period. Outcomes go to
``emit`` one by one (the CSV writer streams them to disk), so memory is bounded by one
prescription plus the summary, whose size depends on pharmacies, PBMs and payments — not on
the number of claims.

DIR is CARC 295 on the period's claims plus the PLB items the PBM's rules call DIR.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from gateway.reconcile.config import ReconcileConfig
from gateway.reconcile.facts import (
    ClaimPaymentFact,
    PlbFact,
    RequestFact,
    ResponseFact,
)
from gateway.reconcile.ledger import Ledger, LedgerReads, Scope, as_date
from gateway.reconcile.matching import fills_of, prescriptions
from gateway.reconcile.outcomes import (
    BUCKETS,
    OUTCOMES,
    ClaimOutcome,
    dollars,
    fill_outcome,
    unmatched_outcome,
)

ZERO = Decimal("0.00")


@dataclass
class Tally:
    """A count and the money of what was counted."""

    count: int = 0
    expected: Decimal = ZERO
    paid: Decimal = ZERO
    variance: Decimal = ZERO

    def add(self, outcome: ClaimOutcome) -> None:
        self.count += 1
        self.expected += outcome.expected or ZERO
        self.paid += outcome.paid
        self.variance += outcome.variance or ZERO


@dataclass(frozen=True)
class PaymentShare:
    """One payment (TRN02) as far as it concerns the pharmacy: its claims and its PLBs."""

    pharmacy: str
    pbm: str
    trace_number: str | None
    payment_date: date | None
    claims: int
    claim_paid: Decimal  # sum of CLP04 of the pharmacy's claims in it
    adjustments: Decimal  # sum of the pharmacy's PLB amounts in it (positive: taken back)

    @property
    def net(self) -> Decimal:
        return self.claim_paid - self.adjustments


@dataclass(frozen=True)
class PlbItem:
    pharmacy: str
    pbm: str
    trace_number: str | None
    payment_date: date | None
    reason: str
    reference: str | None
    category: str  # fee, interest, recoupment, forwarding_balance, adjustment, dir, other
    amount: Decimal


@dataclass
class PbmTotals:
    claims: Tally = field(default_factory=Tally)
    dir_claims: Decimal = ZERO  # CARC 295 on the period's claims
    plb: dict[str, Decimal] = field(default_factory=dict)  # by category
    payments: int = 0
    paid: Decimal = ZERO  # sum of the payment shares' net

    @property
    def dir_plb(self) -> Decimal:
        return self.plb.get("dir", ZERO)

    @property
    def dir_total(self) -> Decimal:
        return self.dir_claims + self.dir_plb


@dataclass
class Summary:
    scope: Scope
    by_outcome: dict[str, Tally] = field(default_factory=lambda: {o: Tally() for o in OUTCOMES})
    aging: dict[str, Tally] = field(default_factory=lambda: {b: Tally() for b in BUCKETS})
    by_pbm: dict[str, PbmTotals] = field(default_factory=dict)
    payments: list[PaymentShare] = field(default_factory=list)
    plb_items: list[PlbItem] = field(default_factory=list)

    @property
    def claims(self) -> int:
        return sum(t.count for o, t in self.by_outcome.items() if o != "unmatched-payment")

    def pbm(self, pbm: str) -> PbmTotals:
        return self.by_pbm.setdefault(pbm, PbmTotals())

    def add(self, outcome: ClaimOutcome) -> None:
        self.by_outcome[outcome.outcome].add(outcome)
        if outcome.aging_bucket is not None:
            self.aging[outcome.aging_bucket].add(outcome)
        totals = self.pbm(outcome.pbm)
        totals.claims.add(outcome)
        totals.dir_claims += outcome.dir


def reconcile(ledger: Ledger, scope: Scope, config: ReconcileConfig,
              emit: Callable[[ClaimOutcome], None] = lambda _: None, *,
              itemise: bool = True) -> Summary:
    """Judge every claim of the scope (each passed to ``emit``, in Rx order) and sum up.

    ``itemise=False`` keeps only totals of payments and PLB items (a PSAO-wide run over
    every pharmacy), so the summary stays small."""
    summary = Summary(scope)
    with ledger.reading() as reads:
        for outcome in outcomes(reads, scope):
            summary.add(outcome)
            emit(outcome)
        _money(reads, scope, config, summary, itemise)
    return summary


def outcomes(reads: LedgerReads, scope: Scope) -> Iterator[ClaimOutcome]:
    """Every claim's outcome (and every unmatched payment's), in (pharmacy, Rx) order."""
    params = scope.params()
    groups = prescriptions(
        reads.facts("stream_requests", RequestFact, params),
        reads.facts("stream_responses", ResponseFact, params),
        reads.facts("stream_claim_payments", ClaimPaymentFact, params),
    )
    for group in groups:
        fills, unmatched = fills_of(group)
        for fill in fills:
            if scope.pbm is None or fill.pbm == scope.pbm:
                yield fill_outcome(group.pharmacy, group.rx_number, fill, scope.as_of)
        by_claim: dict[tuple[str, int | None, date | None], list[ClaimPaymentFact]] = {}
        for payment in unmatched:
            key = (payment.pbm, payment.fill_number, payment.date_of_service)
            by_claim.setdefault(key, []).append(payment)
        for payments in by_claim.values():
            yield unmatched_outcome(group.pharmacy, group.rx_number, payments)


def _money(reads: LedgerReads, scope: Scope, config: ReconcileConfig, summary: Summary,
           itemise: bool) -> None:
    """Payments and PLB items of the period (by payment date), per PBM."""
    params = scope.params()
    shares: dict[tuple[str, int, int], list[Any]] = {}
    for pharmacy, pbm, file_id, set_seq, trace, paid_on, claims, paid, _dir in reads.rows(
            "payment_shares", params):
        shares[(pharmacy, file_id, set_seq)] = [pharmacy, pbm, trace, as_date(paid_on),
                                                 claims, int(paid), 0]
    for plb in reads.facts("stream_provider_adjustments", PlbFact, params):
        category = config.plb_category(plb.pbm, plb.reason, plb.reference)
        totals = summary.pbm(plb.pbm)
        amount = dollars(plb.amount) or ZERO
        totals.plb[category] = totals.plb.get(category, ZERO) + amount
        open_share = shares.setdefault((plb.pharmacy, plb.file_id, plb.set_seq), [
            plb.pharmacy, plb.pbm, plb.trace_number, plb.payment_date, 0, 0, 0])
        open_share[6] += plb.amount
        if itemise:
            summary.plb_items.append(PlbItem(plb.pharmacy, plb.pbm, plb.trace_number,
                                             plb.payment_date, plb.reason, plb.reference,
                                             category, amount))
    for pharmacy, pbm, trace, paid_on, claims, paid, adjusted in shares.values():
        share = PaymentShare(pharmacy, pbm, trace, paid_on, claims, dollars(paid) or ZERO,
                             dollars(adjusted) or ZERO)
        totals = summary.pbm(pbm)
        totals.payments += 1
        totals.paid += share.net
        if itemise:
            summary.payments.append(share)
    summary.payments.sort(key=lambda s: (s.payment_date or date.min, s.pbm, s.trace_number or ""))
