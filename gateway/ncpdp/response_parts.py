"""Business parts of a claim *response*: status and rejects, echoed claim, amounts paid, DUR.

Every class has ``of(segment)`` (None when the segment is absent) or, for repeating data,
``all_of(segment)``. Field comments name the NCPDP field (number-id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from gateway.ncpdp.transmission import Segment
from gateway.ncpdp.values import OtherAmount, Values, occurrences, other_amounts, pairs_of


@dataclass(frozen=True)
class RejectCode:
    code: str  # 511-FB
    field_occurrence: str | None  # 546-4F: which repetition of the field the reject is about


@dataclass(frozen=True)
class AdditionalMessage:
    qualifier: str | None  # 132-UH
    text: str | None  # 526-FQ
    continuity: str | None  # 131-UG


@dataclass(frozen=True)
class ResponseStatus:
    status: str | None  # 112-AN: P paid, D duplicate of paid, R rejected, C captured, A approved
    authorization_number: str | None  # 503-F3: the payer's claim/auth number (reconciliation key)
    reject_codes: tuple[RejectCode, ...]  # 511-FB with 546-4F, counted by 510-FA
    approved_message_codes: tuple[str, ...]  # 548-6F, counted by 547-5F
    messages: tuple[AdditionalMessage, ...]  # 132-UH/526-FQ/131-UG, counted by 130-UF
    help_desk_phone: str | None  # 550-8F

    @property
    def rejected(self) -> bool:
        """Any reject code means rejected, whatever 112-AN says; an unknown status is not paid."""
        return self.status == "R" or bool(self.reject_codes)

    @property
    def paid(self) -> bool:
        return self.status in ("P", "D") and not self.reject_codes

    @classmethod
    def of(cls, segment: Segment | None) -> ResponseStatus | None:
        if segment is None:
            return None
        pairs = pairs_of(segment)
        v = Values(pairs)
        rejects = tuple(
            RejectCode(g[0][1], Values(g).text("4F"))
            for g in occurrences(pairs, "FB", frozenset({"4F"}))
            if g[0][0] == "FB"
        )
        messages = tuple(
            AdditionalMessage(m.text("UH"), m.text("FQ"), m.text("UG"))
            for m in map(Values, occurrences(pairs, "UH", frozenset({"FQ", "UG"})))
        )
        approved = tuple(val for fid, val in pairs if fid == "6F")
        return cls(v.text("AN"), v.text("F3"), rejects, approved, messages, v.text("8F"))


@dataclass(frozen=True)
class ResponseClaim:
    rx_reference_qualifier: str | None  # 455-EM
    rx_number: str | None  # 402-D2 (echoed)
    preferred_product_ids: tuple[str, ...]  # 553-AR, counted by 551-9F

    @classmethod
    def of(cls, segment: Segment | None) -> ResponseClaim | None:
        if segment is None:
            return None
        pairs = pairs_of(segment)
        v = Values(pairs)
        return cls(v.text("EM"), v.text("D2"), tuple(val for fid, val in pairs if fid == "AR"))


@dataclass(frozen=True)
class ResponsePricing:
    patient_pay: Decimal | None  # 505-F5: what the pharmacy collects from the patient
    ingredient_cost_paid: Decimal | None  # 506-F6
    dispensing_fee_paid: Decimal | None  # 507-F7
    total_amount_paid: Decimal | None  # 509-F9: what the plan pays the pharmacy (may be negative)
    copay: Decimal | None  # 518-FI amount of copay
    basis_of_reimbursement: str | None  # 522-FM
    flat_sales_tax_paid: Decimal | None  # 558-AW
    incentive_paid: Decimal | None  # 521-FL
    professional_service_fee_paid: Decimal | None  # 562-J1
    other_amounts_paid: tuple[OtherAmount, ...]  # 564-J3/565-J4, counted by 563-J2
    amount_attributed_to_sales_tax: Decimal | None  # 523-FN

    @classmethod
    def of(cls, segment: Segment | None) -> ResponsePricing | None:
        if segment is None:
            return None
        pairs = pairs_of(segment)
        v = Values(pairs)
        return cls(
            v.typed("F5"),
            v.typed("F6"),
            v.typed("F7"),
            v.typed("F9"),
            v.typed("FI"),
            v.text("FM"),
            v.typed("AW"),
            v.typed("FL"),
            v.typed("J1"),
            other_amounts(pairs, "J3", "J4"),
            v.typed("FN"),
        )


@dataclass(frozen=True)
class DurResponse:
    """One DUR/PPS alert of a response (segment 24), opened by 567-J6."""

    counter: str | None  # 567-J6
    reason_for_service: str | None  # 439-E4
    clinical_significance: str | None  # 528-FS
    previous_fill_date: date | None  # 530-FU
    free_text: str | None  # 544-FY

    @classmethod
    def all_of(cls, segment: Segment | None) -> tuple[DurResponse, ...]:
        members = frozenset({"E4", "FS", "FT", "FU", "FV", "FW", "FX", "FY", "NS"})
        return tuple(
            cls(v.text("J6"), v.text("E4"), v.text("FS"), v.typed("FU"), v.text("FY"))
            for v in map(Values, occurrences(pairs_of(segment), "J6", members))
        )


@dataclass(frozen=True)
class ResponseInsurance:
    group_id: str | None  # 301-C1
    plan_id: str | None  # 524-FO
    network_reimbursement_id: str | None  # 545-2F
    payer_id_qualifier: str | None  # 568-J7
    payer_id: str | None  # 569-J8
    cardholder_id: str | None  # 302-C2

    @classmethod
    def of(cls, segment: Segment | None) -> ResponseInsurance | None:
        if segment is None:
            return None
        v = Values(segment.fields())
        return cls(
            v.text("C1"), v.text("FO"), v.text("2F"), v.text("J7"), v.text("J8"), v.text("C2")
        )
