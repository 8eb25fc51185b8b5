"""The business parts of a claim document, each read from one segment of the transmission.

Every class has ``of(segment)`` (None when the segment is absent) and, for repeating data,
``all_of(segment)``. Repeating fields are read in wire order: an *opener* field (a counter
such as 473-7E, or the first field of a repetition such as 511-FB) starts a new occurrence, so
the occurrence lists keep exactly what was sent even when count fields disagree with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from gateway.ncpdp.fields import lookup
from gateway.ncpdp.transmission import Segment

Pairs = list[tuple[str, str]]


def parse_date(text: str) -> date | None:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8])) if len(text) == 8 else None
    except ValueError:
        return None


class _Values:
    """Typed access to the first occurrence of each field of a list of (id, value) pairs."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.raw: dict[str, str] = {}
        for fid, value in pairs:
            self.raw.setdefault(fid, value)

    def text(self, fid: str) -> str | None:
        return self.raw.get(fid)

    def code(self, fid: str) -> str | None:
        """A code as sent (leading zeros kept), or None when it does not fit its format."""
        value = self.raw.get(fid)
        return value if value is None or self.typed(fid) is not None or not value else None

    def typed(self, fid: str):
        value = self.raw.get(fid)
        definition = lookup(fid)
        if value is None or definition is None:
            return value
        try:
            return definition.format.decode(value)
        except ValueError:
            return None  # malformed: reported by the checks, raw text kept in the transmission


def occurrences(
    pairs: Iterable[tuple[str, str]], opener: str, members: frozenset[str]
) -> list[Pairs]:
    """Split repeating data into occurrences: ``opener`` (or a member seen twice) starts one."""
    out: list[Pairs] = []
    seen: set[str] = set()
    for fid, value in pairs:
        if fid != opener and fid not in members:
            continue
        if fid == opener or not out or fid in seen:
            out.append([])
            seen = set()
        out[-1].append((fid, value))
        seen.add(fid)
    return out


def _pairs(segment: Segment | None) -> list[tuple[str, str]]:
    return list(segment.fields()) if segment is not None else []


@dataclass(frozen=True)
class Patient:
    id_qualifier: str | None  # 331-CX
    id: str | None  # 332-CY
    date_of_birth: date | None  # 304-C4
    gender_code: str | None  # 305-C5
    first_name: str | None  # 310-CA
    last_name: str | None  # 311-CB
    street: str | None  # 322-CM
    city: str | None  # 323-CN
    state: str | None  # 324-CO
    zip_code: str | None  # 325-CP
    phone: str | None  # 326-CQ
    place_of_service: str | None  # 307-C7
    email: str | None  # 350-HN

    @classmethod
    def of(cls, segment: Segment | None) -> Patient | None:
        if segment is None:
            return None
        v = _Values(segment.fields())
        return cls(
            v.text("CX"),
            v.text("CY"),
            v.typed("C4"),
            v.code("C5"),
            v.text("CA"),
            v.text("CB"),
            v.text("CM"),
            v.text("CN"),
            v.text("CO"),
            v.text("CP"),
            v.text("CQ"),
            v.code("C7"),
            v.text("HN"),
        )


@dataclass(frozen=True)
class Insurance:
    cardholder_id: str | None  # 302-C2
    cardholder_first_name: str | None  # 312-CC
    cardholder_last_name: str | None  # 313-CD
    group_id: str | None  # 301-C1
    person_code: str | None  # 303-C3
    relationship_code: str | None  # 306-C6
    plan_id: str | None  # 524-FO
    eligibility_clarification: str | None  # 309-C9
    medicaid_id: str | None  # 115-N5

    @classmethod
    def of(cls, segment: Segment | None) -> Insurance | None:
        if segment is None:
            return None
        v = _Values(segment.fields())
        return cls(
            v.text("C2"),
            v.text("CC"),
            v.text("CD"),
            v.text("C1"),
            v.text("C3"),
            v.code("C6"),
            v.text("FO"),
            v.code("C9"),
            v.text("N5"),
        )


@dataclass(frozen=True)
class Claim:
    rx_reference_qualifier: str | None  # 455-EM: 1 Rx billing, 2 service billing
    rx_number: str | None  # 402-D2 prescription/service reference number
    product_id_qualifier: str | None  # 436-E1: 03 NDC
    product_id: str | None  # 407-D7: the NDC for E1=03
    quantity_dispensed: Decimal | None  # 442-E7, 3 implied decimals
    fill_number: int | None  # 403-D3: 0 original, 1-99 refill
    days_supply: int | None  # 405-D5
    compound_code: str | None  # 406-D6: 1 not a compound, 2 compound
    daw_code: str | None  # 408-D8 dispense as written / product selection
    date_written: date | None  # 414-DE
    refills_authorized: int | None  # 415-DF
    origin_code: str | None  # 419-DJ
    submission_clarification_codes: tuple[str, ...]  # 420-DK, counted by 354-NX
    other_coverage_code: str | None  # 308-C8
    unit_of_measure: str | None  # 600-28
    prior_authorization_number: str | None  # 462-EV
    associated_rx_number: str | None  # 456-EN (B3 rebill / partial fill)

    @property
    def ndc(self) -> str | None:
        return self.product_id if self.product_id_qualifier == "03" else None

    @classmethod
    def of(cls, segment: Segment | None) -> Claim | None:
        if segment is None:
            return None
        pairs = _pairs(segment)
        v = _Values(pairs)
        return cls(
            v.text("EM"),
            v.text("D2"),
            v.text("E1"),
            v.text("D7"),
            v.typed("E7"),
            v.typed("D3"),
            v.typed("D5"),
            v.code("D6"),
            v.text("D8"),
            v.typed("DE"),
            v.typed("DF"),
            v.code("DJ"),
            tuple(val for fid, val in pairs if fid == "DK"),
            v.code("C8"),
            v.text("28"),
            v.text("EV"),
            v.text("EN"),
        )


@dataclass(frozen=True)
class OtherAmount:
    qualifier: str | None  # 479-H8 (request) / 564-J3 (response)
    amount: Decimal | None  # 480-H9 / 565-J4


def _other_amounts(pairs: Pairs, qualifier: str, amount: str) -> tuple[OtherAmount, ...]:
    groups = occurrences(pairs, qualifier, frozenset({amount}))
    return tuple(OtherAmount(_Values(g).text(qualifier), _Values(g).typed(amount)) for g in groups)


@dataclass(frozen=True)
class Pricing:
    ingredient_cost: Decimal | None  # 409-D9
    dispensing_fee: Decimal | None  # 412-DC
    professional_service_fee: Decimal | None  # 477-BE
    patient_paid: Decimal | None  # 433-DX
    incentive: Decimal | None  # 438-E3
    other_amounts: tuple[OtherAmount, ...]  # 479-H8/480-H9, counted by 478-H7
    flat_sales_tax: Decimal | None  # 481-HA
    percentage_sales_tax: Decimal | None  # 482-GE
    percentage_sales_tax_rate: Decimal | None  # 483-HE, 4 implied decimals
    usual_and_customary: Decimal | None  # 426-DQ
    gross_amount_due: Decimal | None  # 430-DU
    basis_of_cost: str | None  # 423-DN

    @classmethod
    def of(cls, segment: Segment | None) -> Pricing | None:
        if segment is None:
            return None
        pairs = _pairs(segment)
        v = _Values(pairs)
        return cls(
            v.typed("D9"),
            v.typed("DC"),
            v.typed("BE"),
            v.typed("DX"),
            v.typed("E3"),
            _other_amounts(pairs, "H8", "H9"),
            v.typed("HA"),
            v.typed("GE"),
            v.typed("HE"),
            v.typed("DQ"),
            v.typed("DU"),
            v.text("DN"),
        )


@dataclass(frozen=True)
class PharmacyProvider:
    id_qualifier: str | None  # 465-EY
    id: str | None  # 444-E9

    @classmethod
    def of(cls, segment: Segment | None) -> PharmacyProvider | None:
        return None if segment is None else cls(segment.get("EY"), segment.get("E9"))


@dataclass(frozen=True)
class Prescriber:
    id_qualifier: str | None  # 466-EZ: 01 NPI, 12 DEA, ...
    id: str | None  # 411-DB
    last_name: str | None  # 427-DR
    first_name: str | None  # 364-2J
    phone: str | None  # 498-PM

    @classmethod
    def of(cls, segment: Segment | None) -> Prescriber | None:
        if segment is None:
            return None
        v = _Values(segment.fields())
        return cls(v.text("EZ"), v.text("DB"), v.text("DR"), v.text("2J"), v.text("PM"))


_PAYER_FIELDS = frozenset(
    {"6C", "7C", "E8", "A7", "HB", "HC", "DV", "5E", "6E", "NR", "NP", "NQ", "MU", "MV", "MW"}
)


@dataclass(frozen=True)
class OtherPayer:
    """One other payer of a COB segment (05): opened by 338-5C."""

    coverage_type: str | None  # 338-5C
    id_qualifier: str | None  # 339-6C
    id: str | None  # 340-7C
    date: date | None  # 443-E8
    amounts_paid: tuple[OtherAmount, ...]  # 342-HC/431-DV, counted by 341-HB
    reject_codes: tuple[str, ...]  # 472-6E, counted by 471-5E
    patient_responsibility: tuple[OtherAmount, ...]  # 351-NP/352-NQ, counted by 353-NR

    @classmethod
    def all_of(cls, segment: Segment | None) -> tuple[OtherPayer, ...]:
        payers = []
        for pairs in _payers(_pairs(segment)):
            v = _Values(pairs)
            payers.append(
                cls(
                    v.text("5C"),
                    v.text("6C"),
                    v.text("7C"),
                    v.typed("E8"),
                    _other_amounts(pairs, "HC", "DV"),
                    tuple(val for fid, val in pairs if fid == "6E"),
                    _other_amounts(pairs, "NP", "NQ"),
                )
            )
        return tuple(payers)


def _payers(pairs: Pairs) -> list[Pairs]:
    """COB is two-level: only 338-5C opens a payer; nested repeats stay inside it."""
    out: list[Pairs] = []
    for fid, value in pairs:
        if fid == "5C" or (fid in _PAYER_FIELDS and not out):
            out.append([])
        if fid == "5C" or fid in _PAYER_FIELDS:
            out[-1].append((fid, value))
    return out


@dataclass(frozen=True)
class DurService:
    """One DUR/PPS occurrence of a request (segment 08), opened by 473-7E."""

    counter: str | None  # 473-7E
    reason_for_service: str | None  # 439-E4
    professional_service: str | None  # 440-E5
    result_of_service: str | None  # 441-E6
    level_of_effort: str | None  # 474-8E

    @classmethod
    def all_of(cls, segment: Segment | None) -> tuple[DurService, ...]:
        members = frozenset({"E4", "E5", "E6", "8E", "J9", "H6"})
        return tuple(
            cls(v.text("7E"), v.text("E4"), v.text("E5"), v.text("E6"), v.text("8E"))
            for v in map(_Values, occurrences(_pairs(segment), "7E", members))
        )


@dataclass(frozen=True)
class CompoundIngredient:
    product_id_qualifier: str | None  # 488-RE
    product_id: str | None  # 489-TE
    quantity: Decimal | None  # 448-ED
    cost: Decimal | None  # 449-EE
    basis_of_cost: str | None  # 490-UE


@dataclass(frozen=True)
class Compound:
    dosage_form: str | None  # 450-EF
    dispensing_unit: str | None  # 451-EG
    ingredients: tuple[CompoundIngredient, ...]  # counted by 447-EC, opened by 488-RE

    @classmethod
    def of(cls, segment: Segment | None) -> Compound | None:
        if segment is None:
            return None
        pairs = _pairs(segment)
        members = frozenset({"TE", "ED", "EE", "UE", "2G", "2H"})
        ingredients = tuple(
            CompoundIngredient(
                v.text("RE"), v.text("TE"), v.typed("ED"), v.typed("EE"), v.text("UE")
            )
            for v in map(_Values, occurrences(pairs, "RE", members))
        )
        v = _Values(pairs)
        return cls(v.text("EF"), v.text("EG"), ingredients)


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
        pairs = _pairs(segment)
        v = _Values(pairs)
        rejects = tuple(
            RejectCode(g[0][1], _Values(g).text("4F"))
            for g in occurrences(pairs, "FB", frozenset({"4F"}))
            if g[0][0] == "FB"
        )
        messages = tuple(
            AdditionalMessage(m.text("UH"), m.text("FQ"), m.text("UG"))
            for m in map(_Values, occurrences(pairs, "UH", frozenset({"FQ", "UG"})))
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
        pairs = _pairs(segment)
        v = _Values(pairs)
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
        pairs = _pairs(segment)
        v = _Values(pairs)
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
            _other_amounts(pairs, "J3", "J4"),
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
            for v in map(_Values, occurrences(_pairs(segment), "J6", members))
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
        v = _Values(segment.fields())
        return cls(
            v.text("C1"), v.text("FO"), v.text("2F"), v.text("J7"), v.text("J8"), v.text("C2")
        )
