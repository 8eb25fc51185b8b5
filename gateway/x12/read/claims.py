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

from gateway.model import (
    Adjustment,
    ClaimPayment,
    Person,
    Reference,
    ServiceLine,
    fast_constructor,
)
from gateway.x12.read.checks import check_balance, check_composite
from gateway.x12.read.values import ZERO, Values, new_source
from gateway.x12.syntax.tokenizer import Segment

CLAIM_IGNORED = frozenset({"MIA", "MOA", "AMT", "QTY", "PER"})  # kept in the source only
PADDING = [""] * 20  # elements + PADDING: absent trailing elements read as ""

# Positional constructors: the arguments in the order named (checked against the model at
# import, see gateway.model.fast_constructor).
new_claim = fast_constructor(
    ClaimPayment,
    "claim_id status billed paid patient_responsibility filing_indicator"
    " payer_claim_control_number facility_code frequency_code patient rendering_provider_npi"
    " statement_start statement_end received_date provider_id adjustments service_lines"
    " references others source",
)
new_line = fast_constructor(
    ServiceLine,
    "product_qualifier product_id modifiers billed paid revenue_code units service_date"
    " service_end_date line_control_number allowed_amount adjustments remark_codes references",
)
new_adjustment = fast_constructor(Adjustment, "group reason amount quantity")
new_reference = fast_constructor(Reference, "qualifier value")
new_person = fast_constructor(Person, "entity_code last_name first_name id_qualifier identifier")


def read_claim(
    values: Values,
    loop: list[Segment],
    line_starts: list[int],
    provider_id: str | None,
    component: str,
) -> ClaimPayment:
    """The claim in ``loop`` (CLP first; the last item is the segment after the claim, where
    its source ends) whose service lines (SVC) are at the indexes ``line_starts``.

    Amounts and dates are looked up in the file's caches first (``values.amounts``,
    ``values.dates``): a hit costs a dict lookup, a miss (or a cached zero) falls back to the
    checking conversion. A method call per element would cost as much as all the rest.
    """
    amounts, dates = values.amounts, values.dates
    stop = len(loop) - 1
    clp = loop[0]
    adjustments: list[Adjustment] = []
    references: list[Reference] = []
    others: list[Person] = []
    patient = npi = statement_start = statement_end = received = None
    for segment in loop[1 : line_starts[0] if line_starts else stop]:
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
            el = elements + PADDING
            day = dates.get(el[2]) or values.date(segment, 2)
            if el[1] == "232":
                statement_start = day
            elif el[1] == "233":
                statement_end = day
            elif el[1] == "050":
                received = day
        elif seg_id == "REF":
            references.append(_reference(elements))
        elif seg_id not in CLAIM_IGNORED:
            values.unexpected(segment, "a claim (loop 2100)")
    ends = [*line_starts[1:], stop] if line_starts else []
    lines = [
        read_line(values, loop, a, b, component) for a, b in zip(line_starts, ends, strict=True)
    ]
    el = clp[2] + PADDING
    paid = amounts.get(el[4]) or values.money(clp, 4)
    if lines:
        # CLP03 - all CAS = CLP04 and SVC02 - line CAS = SVC03 give this, which holds even
        # when CLP03 is not the sum of SVC02 (the X12 examples balance only this way).
        expected = sum([line.paid for line in lines], ZERO)
        expected -= sum([adj.amount for adj in adjustments], ZERO)
        if expected != paid:
            rule = "CLP04 = sum(SVC03) - sum(claim-level CAS)"
            check_balance(values.reporter, clp, "unbalanced-claim", rule, expected, paid)
    following = loop[stop]
    return new_claim(
        el[1],  # claim_id
        el[2],  # status
        amounts.get(el[3]) or values.money(clp, 3),  # billed
        paid,
        (amounts.get(el[5]) or values.money(clp, 5)) if el[5] else None,  # patient resp.
        el[6] or None,  # filing_indicator
        el[7] or None,  # payer_claim_control_number
        el[8] or None,  # facility_code
        el[9] or None,  # frequency_code
        patient,
        npi,  # rendering_provider_npi
        statement_start,
        statement_end,
        received,  # received_date
        provider_id,
        tuple(adjustments),
        tuple(lines),  # service_lines
        tuple(references),
        tuple(others),
        new_source(values.file_name, clp[0], following[0] - 1, clp[1], following[1]),
    )


def read_line(
    values: Values, loop: list[Segment], start: int, stop: int, component: str
) -> ServiceLine:
    """Loop 2110: the SVC at ``loop[start]`` and its DTM, CAS, REF, AMT, LQ up to ``stop``."""
    amounts = values.amounts
    svc = loop[start]
    el = svc[2] + PADDING
    if component in el[1]:
        product = el[1].split(component)
    else:
        product = check_composite(values.reporter, svc, 1, component, required=True)
    adjustments: list[Adjustment] = []
    references: list[Reference] = []
    remarks: list[str] = []
    service_date = end_date = control = allowed = None
    for segment in loop[start + 1 : stop]:
        elements = segment[2]
        seg_id = elements[0]
        if seg_id == "CAS":
            adjustments += read_cas(values, segment)
            continue
        padded = elements + PADDING
        qualifier = padded[1]
        if seg_id == "DTM":
            if qualifier in ("472", "150"):
                service_date = values.dates.get(padded[2]) or values.date(segment, 2)
            elif qualifier == "151":
                end_date = values.dates.get(padded[2]) or values.date(segment, 2)
        elif seg_id == "REF":
            if qualifier == "6R":
                control = padded[2]
            else:
                references.append(_reference(elements))
        elif seg_id == "AMT":
            if qualifier == "B6":
                allowed = amounts.get(padded[2]) or values.money(segment, 2)
        elif seg_id == "LQ":
            remarks.append(padded[2])
        elif seg_id != "QTY":
            values.unexpected(segment, "a service line (loop 2110)")
    billed = amounts.get(el[2]) or values.money(svc, 2)
    paid = amounts.get(el[3]) or values.money(svc, 3)
    expected = billed - sum([adj.amount for adj in adjustments], ZERO)
    if expected != paid:
        rule = "SVC02 - sum(CAS) = SVC03"
        check_balance(values.reporter, svc, "unbalanced-line", rule, expected, paid)
    return new_line(
        product[0],  # product_qualifier
        product[1] if len(product) > 1 else "",  # product_id
        tuple(product[2:6]),  # modifiers
        billed,
        paid,
        el[4] or None,  # revenue_code
        (amounts.get(el[5]) or values.money(svc, 5)) if el[5] else None,  # units
        service_date,
        end_date,  # service_end_date
        control,  # line_control_number
        allowed,  # allowed_amount
        tuple(adjustments),
        tuple(remarks),  # remark_codes
        tuple(references),
    )


def read_cas(values: Values, segment: Segment) -> list[Adjustment]:
    """CAS01 group, then up to six reason/amount/quantity triplets."""
    amounts = values.amounts
    el = segment[2] + PADDING
    group = el[1]
    found = []
    for index in range(2, min(len(segment[2]), 20), 3):
        if el[index]:
            quantity = None
            if el[index + 2]:
                quantity = amounts.get(el[index + 2]) or values.money(segment, index + 2)
            amount = amounts.get(el[index + 1]) or values.money(segment, index + 1)
            found.append(new_adjustment(group, el[index], amount, quantity))
    return found


def _reference(elements: list[str]) -> Reference:
    el = elements + PADDING
    return new_reference(el[1], el[2])


def _person(elements: list[str]) -> Person:
    el = elements + PADDING
    return new_person(el[1], el[3] or None, el[4] or None, el[8] or None, el[9] or None)
