"""Business parts of a claim *request*, each read from one segment of the transmission.

Each class declares the NCPDP field of every attribute (see :mod:`gateway.ncpdp.part`), so
reading (``of(segment)``, or ``all_of(segment)`` for repeating data) and composing come from
that one table. Comments name the NCPDP field (number-id).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from gateway.ncpdp.part import Part, amounts, code, each, items, text, typed
from gateway.ncpdp.values import OtherAmount


class Patient(Part, segments=("01", "29")):
    id_qualifier: str | None = text("CX")  # 331-CX
    id: str | None = text("CY")  # 332-CY
    date_of_birth: date | None = typed("C4")  # 304-C4
    gender_code: str | None = code("C5")  # 305-C5
    first_name: str | None = text("CA")  # 310-CA
    last_name: str | None = text("CB")  # 311-CB
    street: str | None = text("CM")  # 322-CM
    city: str | None = text("CN")  # 323-CN
    state: str | None = text("CO")  # 324-CO
    zip_code: str | None = text("CP")  # 325-CP
    phone: str | None = text("CQ")  # 326-CQ
    place_of_service: str | None = code("C7")  # 307-C7
    email: str | None = text("HN")  # 350-HN


class Insurance(Part, segments=("04",)):
    cardholder_id: str | None = text("C2")  # 302-C2
    cardholder_first_name: str | None = text("CC")  # 312-CC
    cardholder_last_name: str | None = text("CD")  # 313-CD
    group_id: str | None = text("C1")  # 301-C1
    person_code: str | None = text("C3")  # 303-C3
    relationship_code: str | None = code("C6")  # 306-C6
    plan_id: str | None = text("FO")  # 524-FO
    eligibility_clarification: str | None = code("C9")  # 309-C9
    medicaid_id: str | None = text("N5")  # 115-N5


class Claim(Part, segments=("07",)):
    rx_reference_qualifier: str | None = text("EM")  # 455-EM: 1 Rx billing, 2 service billing
    rx_number: str | None = text("D2")  # 402-D2 prescription/service reference number
    product_id_qualifier: str | None = text("E1")  # 436-E1: 03 NDC
    product_id: str | None = text("D7")  # 407-D7: the NDC for E1=03
    quantity_dispensed: Decimal | None = typed("E7")  # 442-E7, 3 implied decimals
    fill_number: int | None = typed("D3")  # 403-D3: 0 original, 1-99 refill
    days_supply: int | None = typed("D5")  # 405-D5
    compound_code: str | None = code("D6")  # 406-D6: 1 not a compound, 2 compound
    daw_code: str | None = text("D8")  # 408-D8 dispense as written / product selection
    date_written: date | None = typed("DE")  # 414-DE
    refills_authorized: int | None = typed("DF")  # 415-DF
    origin_code: str | None = code("DJ")  # 419-DJ
    submission_clarification_codes: tuple[str, ...] = each("DK", count="NX")  # 420-DK, 354-NX
    other_coverage_code: str | None = code("C8")  # 308-C8
    unit_of_measure: str | None = text("28")  # 600-28
    prior_authorization_number: str | None = text("EV")  # 462-EV
    associated_rx_number: str | None = text("EN")  # 456-EN (B3 rebill / partial fill)

    @property
    def ndc(self) -> str | None:
        return self.product_id if self.product_id_qualifier == "03" else None


class Pricing(Part, segments=("11",)):
    ingredient_cost: Decimal | None = typed("D9")  # 409-D9
    dispensing_fee: Decimal | None = typed("DC")  # 412-DC
    professional_service_fee: Decimal | None = typed("BE")  # 477-BE
    patient_paid: Decimal | None = typed("DX")  # 433-DX
    incentive: Decimal | None = typed("E3")  # 438-E3
    other_amounts: tuple[OtherAmount, ...] = amounts("H8", "H9", count="H7")  # 479/480, 478
    flat_sales_tax: Decimal | None = typed("HA")  # 481-HA
    percentage_sales_tax: Decimal | None = typed("GE")  # 482-GE
    percentage_sales_tax_rate: Decimal | None = typed("HE")  # 483-HE, 4 implied decimals
    usual_and_customary: Decimal | None = typed("DQ")  # 426-DQ
    gross_amount_due: Decimal | None = typed("DU")  # 430-DU
    basis_of_cost: str | None = text("DN")  # 423-DN


class PharmacyProvider(Part, segments=("02",)):
    id_qualifier: str | None = text("EY")  # 465-EY
    id: str | None = text("E9")  # 444-E9


class Prescriber(Part, segments=("03",)):
    id_qualifier: str | None = text("EZ")  # 466-EZ: 01 NPI, 12 DEA, ...
    id: str | None = text("DB")  # 411-DB
    last_name: str | None = text("DR")  # 427-DR
    first_name: str | None = text("2J")  # 364-2J
    phone: str | None = text("PM")  # 498-PM


# COB is two-level: only 338-5C opens a payer; its amounts and rejects repeat inside it.
_PAYER_FIELDS = ("6C", "7C", "E8", "A7", "HB", "HC", "DV", "5E", "6E", "NR", "NP", "NQ", "MU",
                 "MV", "MW")  # fmt: skip


class OtherPayer(Part, segments=("05",), opener="5C", members=_PAYER_FIELDS, nested=True):
    """One other payer of a COB segment (05): opened by 338-5C, counted by 337-4C."""

    coverage_type: str | None = text("5C")  # 338-5C
    id_qualifier: str | None = text("6C")  # 339-6C
    id: str | None = text("7C")  # 340-7C
    date: date | None = typed("E8")  # 443-E8
    amounts_paid: tuple[OtherAmount, ...] = amounts("HC", "DV", count="HB")  # 342/431, 341
    reject_codes: tuple[str, ...] = each("6E", count="5E")  # 472-6E, counted by 471-5E
    patient_responsibility: tuple[OtherAmount, ...] = amounts("NP", "NQ", count="NR")  # 351/352


class DurService(Part, segments=("08",), opener="7E", members=("E4", "E5", "E6", "8E", "J9", "H6")):
    """One DUR/PPS occurrence of a request (segment 08), opened by 473-7E."""

    counter: str | None = text("7E")  # 473-7E
    reason_for_service: str | None = text("E4")  # 439-E4
    professional_service: str | None = text("E5")  # 440-E5
    result_of_service: str | None = text("E6")  # 441-E6
    level_of_effort: str | None = text("8E")  # 474-8E


class CompoundIngredient(
    Part, segments=("10",), opener="RE", members=("TE", "ED", "EE", "UE", "2G", "2H")
):
    product_id_qualifier: str | None = text("RE")  # 488-RE
    product_id: str | None = text("TE")  # 489-TE
    quantity: Decimal | None = typed("ED")  # 448-ED
    cost: Decimal | None = typed("EE")  # 449-EE
    basis_of_cost: str | None = text("UE")  # 490-UE


class Compound(Part, segments=("10",)):
    dosage_form: str | None = text("EF")  # 450-EF
    dispensing_unit: str | None = text("EG")  # 451-EG
    ingredients: tuple[CompoundIngredient, ...] = items(CompoundIngredient, count="EC")  # 447-EC
