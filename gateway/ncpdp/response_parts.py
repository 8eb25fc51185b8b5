"""Business parts of a claim *response*: status and rejects, echoed claim, amounts paid, DUR.

Declared like the request parts (:mod:`gateway.ncpdp.part`): ``of(segment)``, or
``all_of(segment)`` for repeating data. Comments name the NCPDP field (number-id).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from gateway.ncpdp import part
from gateway.ncpdp.part import Part, amounts, each, items, text, typed
from gateway.ncpdp.values import OtherAmount


class RejectCode(Part, segments=("21",), opener="FB", members=("4F",), opened=True):
    code: str = text("FB")  # 511-FB (an occurrence without it is not a reject)
    field_occurrence: str | None = text("4F")  # 546-4F: which repetition the reject is about


class AdditionalMessage(Part, segments=("21",), opener="UH", members=("FQ", "UG")):
    qualifier: str | None = text("UH")  # 132-UH
    text: str | None = text("FQ")  # 526-FQ
    continuity: str | None = part.text("UG")  # 131-UG (``text`` is the field above here)


class ResponseStatus(Part, segments=("21",)):
    status: str | None = text("AN")  # 112-AN: P paid, D duplicate, R rejected, C captured, A ok
    authorization_number: str | None = text("F3")  # 503-F3: the payer's claim/auth number
    reject_codes: tuple[RejectCode, ...] = items(RejectCode, count="FA")  # 511-FB/546-4F, 510-FA
    approved_message_codes: tuple[str, ...] = each("6F", count="5F")  # 548-6F, 547-5F
    messages: tuple[AdditionalMessage, ...] = items(AdditionalMessage, count="UF")  # 130-UF
    help_desk_phone: str | None = text("8F")  # 550-8F

    @property
    def rejected(self) -> bool:
        """Any reject code means rejected, whatever 112-AN says; an unknown status is not paid."""
        return self.status == "R" or bool(self.reject_codes)

    @property
    def paid(self) -> bool:
        return self.status in ("P", "D") and not self.reject_codes


class ResponseClaim(Part, segments=("22",)):
    rx_reference_qualifier: str | None = text("EM")  # 455-EM
    rx_number: str | None = text("D2")  # 402-D2 (echoed)
    preferred_product_ids: tuple[str, ...] = each("AR", count="9F")  # 553-AR, 551-9F


class ResponsePricing(Part, segments=("23",), wire="F5 F6 F7 AW FL J1 J2 F9 FM FN FI"):
    patient_pay: Decimal | None = typed("F5")  # 505-F5: what the pharmacy collects
    ingredient_cost_paid: Decimal | None = typed("F6")  # 506-F6
    dispensing_fee_paid: Decimal | None = typed("F7")  # 507-F7
    total_amount_paid: Decimal | None = typed("F9")  # 509-F9: what the plan pays (may be < 0)
    copay: Decimal | None = typed("FI")  # 518-FI amount of copay
    basis_of_reimbursement: str | None = text("FM")  # 522-FM
    flat_sales_tax_paid: Decimal | None = typed("AW")  # 558-AW
    incentive_paid: Decimal | None = typed("FL")  # 521-FL
    professional_service_fee_paid: Decimal | None = typed("J1")  # 562-J1
    other_amounts_paid: tuple[OtherAmount, ...] = amounts("J3", "J4", count="J2")  # 564/565, 563
    amount_attributed_to_sales_tax: Decimal | None = typed("FN")  # 523-FN


class DurResponse(
    Part,
    segments=("24",),
    opener="J6",
    members=("E4", "FS", "FT", "FU", "FV", "FW", "FX", "FY", "NS"),
):
    """One DUR/PPS alert of a response (segment 24), opened by 567-J6."""

    counter: str | None = text("J6")  # 567-J6
    reason_for_service: str | None = text("E4")  # 439-E4
    clinical_significance: str | None = text("FS")  # 528-FS
    previous_fill_date: date | None = typed("FU")  # 530-FU
    free_text: str | None = text("FY")  # 544-FY


class ResponseInsurance(Part, segments=("25",)):
    group_id: str | None = text("C1")  # 301-C1
    plan_id: str | None = text("FO")  # 524-FO
    network_reimbursement_id: str | None = text("2F")  # 545-2F
    payer_id_qualifier: str | None = text("J7")  # 568-J7
    payer_id: str | None = text("J8")  # 569-J8
    cardholder_id: str | None = text("C2")  # 302-C2
