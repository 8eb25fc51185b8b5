"""Claim facts: the ledger's rows, read out of a routed NCPDP or 835 file.

One row type per table of ``sql/<backend>/003_ledger.sql``; the field order is the column
order. Rows name the pharmacy (``pharmacy``: the roster's pharmacy id, or the identifier as
sent when the roster does not know it) and the PBM (``pbm``: a rule's id from
:mod:`gateway.reconcile.config`, else what was seen). They never hold PHI: no patient or
cardholder names, no cardholder or member ids, no birth dates — the raw file (``file_id``,
``byte_offset``) stays the legal record.

Amounts are integer cents, the way the ledger stores them (exact, and cheap at a million
claims: :mod:`gateway.reconcile.amounts`); the reports turn them into Decimal. ``seq``
numbers a file's rows of one kind from 0, so a row is (file_id, seq) and re-reading a file
gives the same keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date
from typing import BinaryIO, NamedTuple

from gateway.errors import Location
from gateway.model import (
    ClaimPayment,
    ProviderAdjustment,
    TransactionHeader,
)
from gateway.ncpdp.model import ClaimRequest, ClaimResponse
from gateway.ncpdp.reader import parse_file as read_ncpdp
from gateway.ncpdp.transmission import Segment
from gateway.ncpdp.values import Values
from gateway.reconcile.amounts import adjustment_text, cents, summarize_adjustments
from gateway.reconcile.config import ReconcileConfig, rx_key
from gateway.x12.read.reader import iter_835
from gateway.x12.read.transaction import Item

PharmacyOf = Callable[[str], str]  # an identifier (NPI, NCPDP id) -> the pharmacy's id


class RequestFact(NamedTuple):
    """One transaction of a B1/B2/B3 (or other) request: the claim as submitted."""

    file_id: int
    seq: int
    byte_offset: int  # of the transmission in the file
    transaction_code: str  # 103-A3
    pharmacy: str
    service_provider_id: str  # 201-B1
    pbm: str
    bin: str  # 101-A1
    pcn: str  # 104-A4
    group_id: str | None  # 301-C1 (the plan's group, not a person)
    rx_number: str  # 402-D2, leading zeros dropped
    fill_number: int | None  # 403-D3
    date_of_service: date | None  # 401-D1
    ndc: str | None  # 407-D7 when 436-E1 = 03
    quantity: str | None  # 442-E7, as a decimal string
    days_supply: int | None  # 405-D5
    ingredient_cost: int | None  # 409-D9
    dispensing_fee: int | None  # 412-DC
    gross_amount_due: int | None  # 430-DU
    usual_and_customary: int | None  # 426-DQ
    patient_paid: int | None  # 433-DX
    reference: str | None  # 880-K5 of the batch detail (matches the response)
    txn: int  # the transaction's place in its transmission (0-3)


class ResponseFact(NamedTuple):
    """One transaction of a response: the PBM's adjudication."""

    file_id: int
    seq: int
    byte_offset: int
    transaction_code: str
    pharmacy: str
    service_provider_id: str
    pbm: str  # from the partner that sent the batch (responses carry no BIN)
    rx_number: str  # 402-D2 echoed in segment 22
    date_of_service: date | None
    reference: str | None
    txn: int
    header_status: str  # 501-F1
    status: str | None  # 112-AN: P paid, D duplicate of paid, R rejected, A approved, ...
    authorization_number: str | None  # 503-F3
    reject_codes: str | None  # 511-FB, joined by "|"
    total_paid: int | None  # 509-F9
    patient_pay: int | None  # 505-F5
    ingredient_cost_paid: int | None  # 506-F6
    dispensing_fee_paid: int | None  # 507-F7


class PaymentFact(NamedTuple):
    """One 835 transaction set: one payment (BPR/TRN) to one payee."""

    file_id: int
    set_seq: int
    control_number: str  # ST02
    pbm: str
    payer_name: str  # N1*PR N102 (a business)
    payer_id: str | None  # TRN03, else N1*PR N104
    payee_npi: str | None
    payee_ncpdp_id: str | None
    payee_tin: str | None
    trace_number: str | None  # TRN02
    amount: int  # BPR02
    credit_debit: str  # BPR03
    method: str  # BPR04
    payment_date: date | None  # BPR16, else DTM*405
    interchange_control_number: str  # ISA13


class ClaimPaymentFact(NamedTuple):
    """One CLP: what the PBM paid on one claim, in one payment."""

    file_id: int
    seq: int
    set_seq: int
    byte_offset: int  # of the CLP segment
    pharmacy: str
    provider_id: str  # NM1*82, else TS301, else the payee
    pbm: str
    claim_id: str  # CLP01 as sent
    rx_number: str  # out of CLP01 by the PBM's pattern (leading zeros dropped)
    fill_number: int | None  # out of CLP01 when the PBM writes it there
    date_of_service: date | None  # DTM*472 of the first line, else DTM*232
    status: str  # CLP02: 1/2/3 processed, 4 denied, 22 reversal
    billed: int  # CLP03
    paid: int  # CLP04
    patient_responsibility: int | None  # CLP05
    payer_claim_control_number: str | None  # CLP07
    ndc: str | None  # SVC01 of the first N4 line
    adjustments: str  # every CAS of the claim and its lines: "CO-45:1234|PR-3:500"
    dir_amount: int  # CARC 295 (DIR) summed over the claim and its lines
    trace_number: str | None  # of the payment (TRN02), for reports without a join
    payment_date: date | None


class LineFact(NamedTuple):
    """One SVC service line of a claim payment (the audit pack shows them)."""

    file_id: int
    claim_seq: int
    line: int  # from 1
    product_qualifier: str  # SVC01-1 (N4 = NDC)
    product_id: str  # SVC01-2
    service_date: date | None  # DTM*472
    billed: int  # SVC02
    paid: int  # SVC03
    units: str | None  # SVC05
    adjustments: str  # the line's CAS, as on the claim


class PlbFact(NamedTuple):
    """One PLB reason/amount pair: positive amounts reduce the payment."""

    file_id: int
    seq: int
    set_seq: int
    pharmacy: str
    provider_id: str  # PLB01
    pbm: str
    fiscal_period_date: date | None  # PLB02
    reason: str  # PLB03-1
    reference: str | None  # PLB03-2
    amount: int
    trace_number: str | None
    payment_date: date | None


Fact = RequestFact | ResponseFact | PaymentFact | ClaimPaymentFact | LineFact | PlbFact


# -- NCPDP ------------------------------------------------------------------------------------


def ncpdp_facts(stream: BinaryIO, file_id: int, partner: str, config: ReconcileConfig,
                pharmacy_of: PharmacyOf) -> Iterator[RequestFact | ResponseFact]:
    """The request and response transactions of an NCPDP file (batch or one transmission)."""
    seq = 0
    response_pbm = config.pbm_for_payment(partner, ())
    for document in read_ncpdp(stream):  # checked before it was routed: no second check
        if isinstance(document, ClaimRequest):
            for fact in _request_facts(document, file_id, seq, config, pharmacy_of):
                yield fact
                seq += 1
        elif isinstance(document, ClaimResponse):
            for response in _response_facts(document, file_id, seq, response_pbm, pharmacy_of):
                yield response
                seq += 1


def _request_facts(document: ClaimRequest, file_id: int, seq: int, config: ReconcileConfig,
                   pharmacy_of: PharmacyOf) -> Iterator[RequestFact]:
    """Only the fields the ledger keeps, typed through the field dictionary (the whole
    business views cost twice as much, and a million claims pay it twice)."""
    header = document.header
    insurance = document.transmission.segment("04")
    group_id = insurance.get("C1") if insurance is not None else None
    pbm = config.pbm_for_claim(header.bin, header.pcn)
    spid = header.service_provider_id
    where = Location(document.source.file, record_number=document.source.record_number)
    for txn, group in enumerate(document.transmission.groups):
        claim = _values(group.segment("07"))
        rx = claim.text("D2")
        if not rx:
            continue  # not a claim (an eligibility check, say): nothing to reconcile
        pricing = _values(group.segment("11"))
        quantity = claim.typed("E7")
        ingredient, fee, gross, usual, patient = (
            cents(pricing.typed(fid), where) for fid in ("D9", "DC", "DU", "DQ", "DX"))
        yield RequestFact(
            file_id, seq + txn, document.source.byte_offset, header.transaction_code,
            pharmacy_of(spid), spid, pbm, header.bin, header.pcn, group_id, rx_key(rx),
            claim.typed("D3"), header.date_of_service,
            claim.text("D7") if claim.text("E1") == "03" else None,  # 436-E1 03: an NDC
            None if quantity is None else str(quantity), claim.typed("D5"),
            ingredient, fee, gross, usual, patient,
            document.source.transaction_reference, txn,
        )


def _response_facts(document: ClaimResponse, file_id: int, seq: int, pbm: str,
                    pharmacy_of: PharmacyOf) -> Iterator[ResponseFact]:
    header = document.header
    spid = header.service_provider_id
    where = Location(document.source.file, record_number=document.source.record_number)
    for txn, group in enumerate(document.transmission.groups):
        rx = _values(group.segment("22")).text("D2")
        if not rx:
            continue
        segment = group.segment("21")
        status = _values(segment)
        rejects = "|".join(v for fid, v in segment.fields() if fid == "FB") if segment else ""
        pricing = _values(group.segment("23"))
        paid, patient_pay, ingredient, fee = (
            cents(pricing.typed(fid), where) for fid in ("F9", "F5", "F6", "F7"))
        yield ResponseFact(
            file_id, seq + txn, document.source.byte_offset, header.transaction_code,
            pharmacy_of(spid), spid, pbm, rx_key(rx), header.date_of_service,
            document.source.transaction_reference, txn, header.header_response_status,
            status.text("AN"), status.text("F3"), rejects or None,
            paid, patient_pay, ingredient, fee,
        )


def _values(segment: Segment | None) -> Values:
    return Values(segment.fields() if segment is not None else ())


# -- X12 835 ----------------------------------------------------------------------------------


def x12_facts(stream: BinaryIO, file_id: int, partner: str, config: ReconcileConfig,
              pharmacy_of: PharmacyOf, *, file_name: str | None = None,
              ) -> Iterator[X12Fact]:
    """Payments, claim payments, their lines and PLB items of an 835, streamed."""
    facts = X12Facts(file_id, partner, config, pharmacy_of)
    for item in iter_835(stream, file_name=file_name):
        yield from facts.of(item)


X12Fact = PaymentFact | ClaimPaymentFact | LineFact | PlbFact


class X12Facts:
    """The facts of an 835's items, item by item: whoever reads the file with the reader can
    feed them here (the daemon's parse stage does, so the ledger needs no read of its own).

    One pass, cheap per claim (a central pay has a million): the PBM's CLP01 pattern is
    looked up once per payment, the pharmacy of an identifier once per file (bounded, like
    the reader's caches), a claim or line without CAS skips the adjustment sums."""

    def __init__(self, file_id: int, partner: str, config: ReconcileConfig,
                 pharmacy_of: PharmacyOf) -> None:
        self.file_id, self.partner = file_id, partner
        self.config, self.pharmacy_of = config, pharmacy_of
        self.set_seq = self.claim_seq = self.plb_seq = -1
        self.payment: PaymentFact | None = None
        self.payee = ""
        self._claim_number = config.claim_numbers("")
        self._pharmacies: dict[str, str] = {}

    def of(self, item: Item) -> Sequence[X12Fact]:
        """The facts one item of ``iter_835`` makes (none for groups and set ends)."""
        payment = self.payment
        if isinstance(item, ClaimPayment) and payment is not None:
            self.claim_seq += 1
            return self._claim(item, payment, self.claim_seq)
        if isinstance(item, TransactionHeader):
            self.set_seq += 1
            payment = self.payment = _payment(item, self.file_id, self.set_seq, self.partner,
                                              self.config)
            self.payee = payment.payee_npi or payment.payee_ncpdp_id or payment.payee_tin or ""
            self._claim_number = self.config.claim_numbers(payment.pbm)
            return (payment,)
        if isinstance(item, ProviderAdjustment) and payment is not None:
            self.plb_seq += 1
            return (PlbFact(
                self.file_id, self.plb_seq, self.set_seq, self._pharmacy(item.provider_id),
                item.provider_id, payment.pbm, item.fiscal_period_date, item.reason,
                item.reference, cents(item.amount) or 0, payment.trace_number,
                payment.payment_date),)
        return ()

    def _pharmacy(self, identifier: str) -> str:
        pharmacy = self._pharmacies.get(identifier)
        if pharmacy is None:
            if len(self._pharmacies) >= PHARMACY_CACHE:
                self._pharmacies.clear()
            pharmacy = self._pharmacies[identifier] = self.pharmacy_of(identifier)
        return pharmacy

    def _claim(self, claim: ClaimPayment, payment: PaymentFact, seq: int,
               ) -> list[ClaimPaymentFact | LineFact]:
        """The claim's fact, then its lines' (amounts in the order the reference reads
        them, so a refused amount is the same one)."""
        provider = claim.rendering_provider_npi or claim.provider_id or self.payee
        number = self._claim_number(claim.claim_id)
        totals: dict[str, int] = {}
        if claim.adjustments:
            summarize_adjustments(claim.adjustments, totals)
        lines = claim.service_lines
        alone = not totals and len(lines) == 1  # the claim's CAS are its one line's
        file_id, ndc, text = payment.file_id, None, ""
        facts: list[ClaimPaymentFact | LineFact] = []
        for n, line in enumerate(lines, 1):
            text = ""
            if line.adjustments:
                mine: dict[str, int] = {}
                summarize_adjustments(line.adjustments, mine)
                text = adjustment_text(mine)
                if alone:
                    totals = mine
                else:
                    for key, amount in mine.items():
                        totals[key] = totals.get(key, 0) + amount
            if ndc is None and line.product_qualifier == "N4":
                ndc = line.product_id
            units = line.units
            facts.append(_new(LineFact, (
                file_id, seq, n, line.product_qualifier, line.product_id, line.service_date,
                cents(line.billed) or 0, cents(line.paid) or 0,
                None if units is None else str(units), text)))
        first = claim.service_lines[0] if claim.service_lines else None
        source = claim.source
        facts.insert(0, _new(ClaimPaymentFact, (
            file_id, seq, payment.set_seq, source.start_offset if source else 0,
            self._pharmacy(provider), provider, payment.pbm, claim.claim_id,
            number[0] if number else claim.claim_id.strip(),
            number[1] if number else None,
            (first.service_date if first and first.service_date else claim.statement_start),
            claim.status, cents(claim.billed) or 0, cents(claim.paid) or 0,
            cents(claim.patient_responsibility), claim.payer_claim_control_number, ndc,
            (text if alone else adjustment_text(totals)) if totals else "",
            sum([amount for key, amount in totals.items() if key.endswith("-295")])
            if totals else 0,
            payment.trace_number, payment.payment_date)))
        return facts


PHARMACY_CACHE = 4096  # identifiers per file whose pharmacy is remembered (then cleared)
_new = tuple.__new__  # a fact from its values in order, without NamedTuple's __new__ frame


def _payment(header: TransactionHeader, file_id: int, set_seq: int, partner: str,
             config: ReconcileConfig) -> PaymentFact:
    pay, payer, payee = header.payment, header.payer, header.payee
    pbm = config.pbm_for_payment(partner, (pay.originator_id, payer.identifier))
    return PaymentFact(
        file_id, set_seq, header.control_number, pbm, payer.name,
        pay.originator_id or payer.identifier, payee.npi, payee.ncpdp_id, payee.tin,
        pay.trace_number, cents(pay.amount) or 0, pay.credit_debit, pay.method,
        pay.date or header.production_date, header.envelope.interchange_control_number)
