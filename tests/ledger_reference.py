"""The claims ledger's 835 facts as they were computed before issue 13 made them cheaper: a
frozen copy, used only by tests/test_ledger_facts_equivalence.py to prove the fast path gives
every fact, value for value (and every refusal, word for word), as before. Not imported by
the gateway; do not "fix" it — its point is that it does not change.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from gateway.errors import InputError, Location
from gateway.model import Adjustment, ClaimPayment, ProviderAdjustment, TransactionHeader
from gateway.reconcile.config import ReconcileConfig, rx_key
from gateway.reconcile.facts import (
    ClaimPaymentFact,
    LineFact,
    PaymentFact,
    PharmacyOf,
    PlbFact,
    X12Fact,
)
from gateway.x12.read.transaction import Item


def cents(amount: Decimal | None, where: Location | None = None) -> int | None:
    """Exact integer cents; an amount with fractions of a cent is refused, not rounded."""
    if amount is None:
        return None
    scaled = amount.scaleb(2)
    if scaled != scaled.to_integral_value():
        raise InputError(f"amount {amount} has fractions of a cent", code="amount-precision",
                         where=where, fix="amounts are dollars and cents; ask the sender")
    return int(scaled)


def summarize_adjustments(adjustments: tuple[Adjustment, ...], into: dict[str, int]) -> None:
    for adjustment in adjustments:
        key = f"{adjustment.group}-{adjustment.reason}"
        into[key] = into.get(key, 0) + (cents(adjustment.amount) or 0)


def adjustment_text(totals: dict[str, int]) -> str:
    return "|".join(f"{key}:{amount}" for key, amount in sorted(totals.items()))


def claim_number(config: ReconcileConfig, pbm_id: str, clp01: str
                 ) -> tuple[str, int | None] | None:
    """ReconcileConfig.claim_number as it was: the rule scanned and the pattern run per claim."""
    rule = config.rule(pbm_id)
    match = (rule.clp01 if rule else config.default_clp01).fullmatch(clp01.strip())
    if match is None:
        return None
    fill = match.groupdict().get("fill")
    return rx_key(match["rx"]), int(fill) if fill else None


class X12Facts:
    def __init__(self, file_id: int, partner: str, config: ReconcileConfig,
                 pharmacy_of: PharmacyOf) -> None:
        self.file_id, self.partner = file_id, partner
        self.config, self.pharmacy_of = config, pharmacy_of
        self.set_seq = self.claim_seq = self.plb_seq = -1
        self.payment: PaymentFact | None = None
        self.payee = ""

    def of(self, item: Item) -> Iterator[X12Fact]:
        payment = self.payment
        if isinstance(item, ClaimPayment) and payment is not None:
            self.claim_seq += 1
            yield from _claim_payment(item, payment, self.claim_seq, self.payee, self.config,
                                      self.pharmacy_of)
        elif isinstance(item, TransactionHeader):
            self.set_seq += 1
            payment = self.payment = _payment(item, self.file_id, self.set_seq, self.partner,
                                              self.config)
            self.payee = payment.payee_npi or payment.payee_ncpdp_id or payment.payee_tin or ""
            yield payment
        elif isinstance(item, ProviderAdjustment) and payment is not None:
            self.plb_seq += 1
            yield PlbFact(
                self.file_id, self.plb_seq, self.set_seq, self.pharmacy_of(item.provider_id),
                item.provider_id, payment.pbm, item.fiscal_period_date, item.reason,
                item.reference, cents(item.amount) or 0, payment.trace_number,
                payment.payment_date)


def _payment(header: TransactionHeader, file_id: int, set_seq: int, partner: str,
             config: ReconcileConfig) -> PaymentFact:
    pay, payer, payee = header.payment, header.payer, header.payee
    pbm = config.pbm_for_payment(partner, (pay.originator_id, payer.identifier))
    return PaymentFact(
        file_id, set_seq, header.control_number, pbm, payer.name,
        pay.originator_id or payer.identifier, payee.npi, payee.ncpdp_id, payee.tin,
        pay.trace_number, cents(pay.amount) or 0, pay.credit_debit, pay.method,
        pay.date or header.production_date, header.envelope.interchange_control_number)


def _claim_payment(claim: ClaimPayment, payment: PaymentFact, seq: int, payee: str,
                   config: ReconcileConfig, pharmacy_of: PharmacyOf,
                   ) -> Iterator[ClaimPaymentFact | LineFact]:
    provider = claim.rendering_provider_npi or claim.provider_id or payee
    number = claim_number(config, payment.pbm, claim.claim_id)
    totals: dict[str, int] = {}
    summarize_adjustments(claim.adjustments, totals)
    lines = []
    for n, line in enumerate(claim.service_lines, 1):
        mine: dict[str, int] = {}
        summarize_adjustments(line.adjustments, mine)
        for key, amount in mine.items():
            totals[key] = totals.get(key, 0) + amount
        lines.append(LineFact(
            payment.file_id, seq, n, line.product_qualifier, line.product_id, line.service_date,
            cents(line.billed) or 0, cents(line.paid) or 0,
            None if line.units is None else str(line.units), adjustment_text(mine)))
    first = claim.service_lines[0] if claim.service_lines else None
    ndc = next((s.product_id for s in claim.service_lines if s.product_qualifier == "N4"), None)
    dir_amount = sum(amount for key, amount in totals.items() if key.endswith("-295"))
    source = claim.source
    yield ClaimPaymentFact(
        payment.file_id, seq, payment.set_seq, source.start_offset if source else 0,
        pharmacy_of(provider), provider, payment.pbm, claim.claim_id,
        number[0] if number else claim.claim_id.strip(),
        number[1] if number else None,
        (first.service_date if first and first.service_date else claim.statement_start),
        claim.status, cents(claim.billed) or 0, cents(claim.paid) or 0,
        cents(claim.patient_responsibility), claim.payer_claim_control_number, ndc,
        adjustment_text(totals), dir_amount, payment.trace_number, payment.payment_date)
    yield from lines
