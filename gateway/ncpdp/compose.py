"""Canonical documents to wire format: the inverse of the business views.

A parsed document is written from its own text (byte-identical). This module is for documents
*made* from business values — a reply built by the gateway, a test fixture, a re-keyed claim:
each business part becomes its segment, repeating data gets its count field and its
occurrences in order, and typed values are encoded through the field dictionary. Reading the
result back gives the same business view (fields the views do not model are not invented).
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.ncpdp import request_parts as rq
from gateway.ncpdp import response_parts as rs
from gateway.ncpdp.model import (
    ClaimTransaction,
    RequestHeader,
    ResponseHeader,
    ResponseTransaction,
)
from gateway.ncpdp.transmission import Segment, Transmission
from gateway.ncpdp.values import OtherAmount
from gateway.ncpdp.writer import Value, segment, transmission

Pairs = list[tuple[str, Value]]


def request(
    header: RequestHeader,
    patient: rq.Patient | None,
    insurance: rq.Insurance | None,
    transactions: Sequence[ClaimTransaction],
) -> Transmission:
    """A request transmission: Insurance and Patient before the first GS, one group per claim."""
    top = []
    if insurance is not None:
        top.append(segment("04", _insurance(insurance)))
    if patient is not None:
        top.append(segment("01", _patient(patient)))
    return transmission(header, top, [_claim_group(t) for t in transactions])


def response(
    header: ResponseHeader,
    message: str | None,
    insurance: rs.ResponseInsurance | None,
    patient: rq.Patient | None,
    transactions: Sequence[ResponseTransaction],
) -> Transmission:
    """A response transmission: Message, Insurance and Patient, then one group per result."""
    top = []
    if message is not None:
        top.append(segment("20", [("F4", message)]))
    if insurance is not None:
        i = insurance
        pairs: Pairs = [("C1", i.group_id), ("FO", i.plan_id), ("2F", i.network_reimbursement_id),
                        ("J7", i.payer_id_qualifier), ("J8", i.payer_id),
                        ("C2", i.cardholder_id)]  # fmt: skip
        top.append(segment("25", pairs))
    if patient is not None:
        top.append(segment("29", _patient(patient)))
    return transmission(header, top, [_result_group(t) for t in transactions])


def _patient(p: rq.Patient) -> Pairs:
    return [("CX", p.id_qualifier), ("CY", p.id), ("C4", p.date_of_birth),
            ("C5", p.gender_code),
            ("CA", p.first_name), ("CB", p.last_name), ("CM", p.street), ("CN", p.city),
            ("CO", p.state), ("CP", p.zip_code), ("CQ", p.phone), ("C7", p.place_of_service),
            ("HN", p.email)]  # fmt: skip


def _insurance(i: rq.Insurance) -> Pairs:
    return [("C2", i.cardholder_id), ("CC", i.cardholder_first_name),
            ("CD", i.cardholder_last_name),
            ("C1", i.group_id), ("C3", i.person_code), ("C6", i.relationship_code),
            ("FO", i.plan_id), ("C9", i.eligibility_clarification),
            ("N5", i.medicaid_id)]  # fmt: skip


def _counted(count_id: str, items: Sequence[object]) -> Pairs:
    """The count field of a repetition, only when there is something to count."""
    return [(count_id, len(items))] if items else []


def _amounts(qualifier: str, amount: str, amounts: Sequence[OtherAmount]) -> Pairs:
    return [pair for a in amounts for pair in ((qualifier, a.qualifier), (amount, a.amount))]


def _claim_group(t: ClaimTransaction) -> list[Segment]:
    group = []
    if t.claim is not None:
        c = t.claim
        codes = c.submission_clarification_codes
        group.append(segment("07", [
            ("EM", c.rx_reference_qualifier), ("D2", c.rx_number), ("E1", c.product_id_qualifier),
            ("D7", c.product_id), ("E7", c.quantity_dispensed), ("D3", c.fill_number),
            ("D5", c.days_supply), ("D6", c.compound_code), ("D8", c.daw_code),
            ("DE", c.date_written), ("DF", c.refills_authorized), ("DJ", c.origin_code),
            *_counted("NX", codes), *(("DK", code) for code in codes),
            ("C8", c.other_coverage_code), ("28", c.unit_of_measure),
            ("EV", c.prior_authorization_number), ("EN", c.associated_rx_number),
        ]))  # fmt: skip
    if t.pricing is not None:
        p = t.pricing
        group.append(segment("11", [
            ("D9", p.ingredient_cost), ("DC", p.dispensing_fee),
            ("BE", p.professional_service_fee),
            ("DX", p.patient_paid), ("E3", p.incentive), *_counted("H7", p.other_amounts),
            *_amounts("H8", "H9", p.other_amounts), ("HA", p.flat_sales_tax),
            ("GE", p.percentage_sales_tax), ("HE", p.percentage_sales_tax_rate),
            ("DQ", p.usual_and_customary), ("DU", p.gross_amount_due), ("DN", p.basis_of_cost),
        ]))  # fmt: skip
    if t.pharmacy_provider is not None:
        provider = t.pharmacy_provider
        group.append(segment("02", [("EY", provider.id_qualifier), ("E9", provider.id)]))
    if t.prescriber is not None:
        r = t.prescriber
        group.append(segment("03", [("EZ", r.id_qualifier), ("DB", r.id), ("DR", r.last_name),
                                    ("2J", r.first_name), ("PM", r.phone)]))  # fmt: skip
    if t.other_payers:
        group.append(segment("05", [*_counted("4C", t.other_payers), *_payers(t.other_payers)]))
    if t.dur:
        group.append(segment("08", [pair for d in t.dur for pair in (
            ("7E", d.counter), ("E4", d.reason_for_service), ("E5", d.professional_service),
            ("E6", d.result_of_service), ("8E", d.level_of_effort))]))  # fmt: skip
    if t.compound is not None:
        m = t.compound
        ingredients = [pair for i in m.ingredients for pair in (
            ("RE", i.product_id_qualifier), ("TE", i.product_id), ("ED", i.quantity),
            ("EE", i.cost), ("UE", i.basis_of_cost))]  # fmt: skip
        group.append(segment("10", [("EF", m.dosage_form), ("EG", m.dispensing_unit),
                                    *_counted("EC", m.ingredients), *ingredients]))  # fmt: skip
    return group


def _payers(payers: Sequence[rq.OtherPayer]) -> Pairs:
    pairs: Pairs = []
    for o in payers:
        pairs += [("5C", o.coverage_type), ("6C", o.id_qualifier), ("7C", o.id), ("E8", o.date)]
        pairs += _counted("HB", o.amounts_paid) + _amounts("HC", "DV", o.amounts_paid)
        pairs += _counted("5E", o.reject_codes) + [("6E", code) for code in o.reject_codes]
        pairs += _counted("NR", o.patient_responsibility)
        pairs += _amounts("NP", "NQ", o.patient_responsibility)
    return pairs


def _result_group(t: ResponseTransaction) -> list[Segment]:
    group = []
    if t.status is not None:
        s = t.status
        rejects = [pair for r in s.reject_codes
                   for pair in (("FB", r.code), ("4F", r.field_occurrence))]  # fmt: skip
        messages = [pair for m in s.messages for pair in (
            ("UH", m.qualifier), ("FQ", m.text), ("UG", m.continuity))]  # fmt: skip
        group.append(segment("21", [
            ("AN", s.status), ("F3", s.authorization_number), *_counted("FA", s.reject_codes),
            *rejects, *_counted("5F", s.approved_message_codes),
            *(("6F", code) for code in s.approved_message_codes),
            *_counted("UF", s.messages), *messages, ("8F", s.help_desk_phone),
        ]))  # fmt: skip
    if t.claim is not None:
        c = t.claim
        products = c.preferred_product_ids
        group.append(segment("22", [("EM", c.rx_reference_qualifier), ("D2", c.rx_number),
                                    *_counted("9F", products),
                                    *(("AR", pid) for pid in products)]))  # fmt: skip
    if t.pricing is not None:
        p = t.pricing
        group.append(segment("23", [
            ("F5", p.patient_pay), ("F6", p.ingredient_cost_paid), ("F7", p.dispensing_fee_paid),
            ("AW", p.flat_sales_tax_paid), ("FL", p.incentive_paid),
            ("J1", p.professional_service_fee_paid), *_counted("J2", p.other_amounts_paid),
            *_amounts("J3", "J4", p.other_amounts_paid), ("F9", p.total_amount_paid),
            ("FM", p.basis_of_reimbursement), ("FN", p.amount_attributed_to_sales_tax),
            ("FI", p.copay),
        ]))  # fmt: skip
    if t.dur:
        group.append(segment("24", [pair for d in t.dur for pair in (
            ("J6", d.counter), ("E4", d.reason_for_service), ("FS", d.clinical_significance),
            ("FU", d.previous_fill_date), ("FY", d.free_text))]))  # fmt: skip
    return group
