"""Loop 2100 (CLP claim) with its loop 2110 service lines, read in one pass.

A central-pay file has hundreds of thousands of claims, so each claim's segments are walked
exactly once: the reader noted where every CLP and SVC is while collecting the transaction
set, so the claim-level segments (CAS, NM1, DTM, REF) and each service line's (DTM, CAS,
REF*6R, AMT*B6, LQ*HE) are plain slices, read with local variables only.
Balancing is checked as each line and claim closes:

* line: SVC02 − sum(line CAS) = SVC03;
* claim (when it has lines): CLP04 = sum(SVC03) − sum(claim-level CAS). This follows from the
  TR3's claim equation (CLP03 − all CAS = CLP04) and the line equation, and unlike
  "CLP04 = sum(SVC03)" it holds for claims with claim-level adjustments (the X12 examples).
"""

from __future__ import annotations

from gateway.model import Adjustment, ClaimPayment, Person, Reference, ServiceLine
from gateway.x12.checks import check_balance, check_composite
from gateway.x12.tokenizer import Segment
from gateway.x12.values import ZERO, Values

CLAIM_IGNORED = frozenset({"MIA", "MOA", "AMT", "QTY", "PER"})  # kept in the source only
PADDING = [""] * 20


def read_claim(
    values: Values,
    body: list[Segment],
    bounds: tuple[int, list[int], int],
    provider_id: str | None,
    component: str,
) -> ClaimPayment:
    """The claim in ``body[start:stop]`` (CLP first) whose service lines start at ``lines``.

    ``bounds`` is (start, lines, stop): the reader noted where each SVC is while collecting
    the transaction set, so no segment is searched for twice.
    """
    start, line_starts, stop = bounds
    clp = body[start]
    adjustments: list[Adjustment] = []
    references: list[Reference] = []
    others: list[Person] = []
    patient = npi = statement_start = statement_end = received = None
    for segment in body[start + 1 : line_starts[0] if line_starts else stop]:
        elements = segment[2]
        seg_id = elements[0]
        if seg_id == "CAS":
            adjustments += read_cas(values, segment)
        elif seg_id == "NM1":
            entity = elements[1] if len(elements) > 1 else ""
            if entity == "82":
                if len(elements) > 9 and elements[8] == "XX":
                    npi = elements[9] or None
            elif entity == "QC":
                patient = _person(elements)
            else:
                others.append(_person(elements))
        elif seg_id == "DTM":
            qualifier = elements[1] if len(elements) > 1 else ""
            if qualifier == "232":
                statement_start = values.date(segment, 2)
            elif qualifier == "233":
                statement_end = values.date(segment, 2)
            elif qualifier == "050":
                received = values.date(segment, 2)
        elif seg_id == "REF":
            references.append(_reference(elements))
        elif seg_id not in CLAIM_IGNORED:
            values.unexpected(segment, "a claim (loop 2100)")
    ends = [*line_starts[1:], stop] if line_starts else []
    lines = [
        read_line(values, body, a, b, component)
        for a, b in zip(line_starts, ends, strict=True)
    ]
    el = clp[2] + PADDING[: max(0, 10 - len(clp[2]))]
    paid = values.money(clp, 4)
    if lines:
        # CLP03 - all CAS = CLP04 and SVC02 - line CAS = SVC03 give this, which holds even
        # when CLP03 is not the sum of SVC02 (the X12 examples balance only this way).
        expected = sum([line.paid for line in lines], ZERO)
        expected -= sum([adj.amount for adj in adjustments], ZERO)
        if expected != paid:
            rule = "CLP04 = sum(SVC03) - sum(claim-level CAS)"
            check_balance(values.reporter, clp, "unbalanced-claim", rule, expected, paid)
    return ClaimPayment(
        claim_id=el[1],
        status=el[2],
        billed=values.money(clp, 3),
        paid=paid,
        patient_responsibility=values.optional_money(clp, 5),
        filing_indicator=el[6] or None,
        payer_claim_control_number=el[7] or None,
        facility_code=el[8] or None,
        frequency_code=el[9] or None,
        patient=patient,
        rendering_provider_npi=npi,
        statement_start=statement_start,
        statement_end=statement_end,
        received_date=received,
        provider_id=provider_id,
        adjustments=tuple(adjustments),
        service_lines=tuple(lines),
        references=tuple(references),
        others=tuple(others),
        source=values.source(body, start, stop),
    )


def read_line(
    values: Values, body: list[Segment], start: int, stop: int, component: str
) -> ServiceLine:
    """Loop 2110: the SVC at ``body[start]`` and its DTM, CAS, REF, AMT, LQ up to ``stop``."""
    svc = body[start]
    product = check_composite(values.reporter, svc, 1, component, required=True)
    adjustments: list[Adjustment] = []
    references: list[Reference] = []
    remarks: list[str] = []
    service_date = end_date = control = allowed = None
    for segment in body[start + 1 : stop]:
        elements = segment[2]
        seg_id = elements[0]
        qualifier = elements[1] if len(elements) > 1 else ""
        if seg_id == "CAS":
            adjustments += read_cas(values, segment)
        elif seg_id == "DTM":
            if qualifier in ("472", "150"):
                service_date = values.date(segment, 2)
            elif qualifier == "151":
                end_date = values.date(segment, 2)
        elif seg_id == "REF":
            if qualifier == "6R":
                control = elements[2] if len(elements) > 2 else ""
            else:
                references.append(_reference(elements))
        elif seg_id == "AMT":
            if qualifier == "B6":
                allowed = values.money(segment, 2)
        elif seg_id == "LQ":
            remarks.append(elements[2] if len(elements) > 2 else "")
        elif seg_id != "QTY":
            values.unexpected(segment, "a service line (loop 2110)")
    el = svc[2]
    billed, paid = values.money(svc, 2), values.money(svc, 3)
    expected = billed - sum([adj.amount for adj in adjustments], ZERO)
    if expected != paid:
        rule = "SVC02 - sum(CAS) = SVC03"
        check_balance(values.reporter, svc, "unbalanced-line", rule, expected, paid)
    return ServiceLine(
        product_qualifier=product[0],
        product_id=product[1] if len(product) > 1 else "",
        modifiers=tuple(product[2:6]),
        billed=billed,
        paid=paid,
        revenue_code=(el[4] or None) if len(el) > 4 else None,
        units=values.optional_money(svc, 5),
        service_date=service_date,
        service_end_date=end_date,
        line_control_number=control,
        allowed_amount=allowed,
        adjustments=tuple(adjustments),
        remark_codes=tuple(remarks),
        references=tuple(references),
    )


def read_cas(values: Values, segment: Segment) -> list[Adjustment]:
    """CAS01 group, then up to six reason/amount/quantity triplets."""
    elements = segment[2]
    group = elements[1] if len(elements) > 1 else ""
    found = []
    for index in range(2, min(len(elements), 20), 3):
        if elements[index]:
            quantity = values.optional_money(segment, index + 2)
            amount = values.money(segment, index + 1)
            found.append(Adjustment(group, elements[index], amount, quantity))
    return found


def _reference(elements: list[str]) -> Reference:
    el = elements + PADDING[: max(0, 3 - len(elements))]
    return Reference(el[1], el[2])


def _person(elements: list[str]) -> Person:
    el = elements + PADDING[: max(0, 10 - len(elements))]
    return Person(
        entity_code=el[1],
        last_name=el[3] or None,
        first_name=el[4] or None,
        id_qualifier=el[8] or None,
        identifier=el[9] or None,
    )
