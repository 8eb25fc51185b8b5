"""Business parts of a claim *request*, each read from one segment of the transmission.

Every class has ``of(segment)`` (None when the segment is absent) or, for repeating data,
``all_of(segment)``. Field comments name the NCPDP field (number-id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from gateway.ncpdp.transmission import Segment
from gateway.ncpdp.values import OtherAmount, Pairs, Values, occurrences, other_amounts, pairs_of


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
        v = Values(segment.fields())
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
        v = Values(segment.fields())
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
        pairs = pairs_of(segment)
        v = Values(pairs)
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
        pairs = pairs_of(segment)
        v = Values(pairs)
        return cls(
            v.typed("D9"),
            v.typed("DC"),
            v.typed("BE"),
            v.typed("DX"),
            v.typed("E3"),
            other_amounts(pairs, "H8", "H9"),
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
        v = Values(segment.fields())
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
        for pairs in _payers(pairs_of(segment)):
            v = Values(pairs)
            payers.append(
                cls(
                    v.text("5C"),
                    v.text("6C"),
                    v.text("7C"),
                    v.typed("E8"),
                    other_amounts(pairs, "HC", "DV"),
                    tuple(val for fid, val in pairs if fid == "6E"),
                    other_amounts(pairs, "NP", "NQ"),
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
            for v in map(Values, occurrences(pairs_of(segment), "7E", members))
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
        pairs = pairs_of(segment)
        members = frozenset({"TE", "ED", "EE", "UE", "2G", "2H"})
        ingredients = tuple(
            CompoundIngredient(
                v.text("RE"), v.text("TE"), v.typed("ED"), v.typed("EE"), v.text("UE")
            )
            for v in map(Values, occurrences(pairs, "RE", members))
        )
        v = Values(pairs)
        return cls(v.text("EF"), v.text("EG"), ingredients)
