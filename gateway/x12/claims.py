"""Loop 2100 (CLP claim) with its loop 2110 service lines, read in one pass.

A central-pay file has hundreds of thousands of claims, so each claim's segments are walked
exactly once: claim-level segments (CAS, NM1, DTM, REF) until the first SVC, then each SVC
opens a service line that collects DTM, CAS, REF*6R, AMT*B6 and LQ*HE until the next SVC.
Balancing is checked as each line and claim closes:

* line: SVC02 − sum(line CAS) = SVC03;
* claim (when it has lines): CLP04 = sum(SVC03) − sum(claim-level CAS). This follows from the
  TR3's claim equation (CLP03 − all CAS = CLP04) and the line equation, and unlike
  "CLP04 = sum(SVC03)" it holds for claims with claim-level adjustments (the X12 examples).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from gateway.model import Adjustment, ClaimPayment, Person, Reference, ServiceLine
from gateway.x12.checks import check_balance, check_composite
from gateway.x12.tokenizer import Segment
from gateway.x12.values import ZERO, Values

CLAIM_IGNORED = frozenset({"MIA", "MOA", "AMT", "QTY", "PER"})  # kept in the source only
PADDING = [""] * 20


def read_claim(
    values: Values,
    body: list[Segment],
    start: int,
    stop: int,
    provider_id: str | None,
    component: str,
) -> ClaimPayment:
    """The claim whose segments are ``body[start:stop]`` (CLP first)."""
    clp = body[start]
    adjustments: list[Adjustment] = []
    references: list[Reference] = []
    others: list[Person] = []
    lines: list[ServiceLine] = []
    dates: dict[str, date | None] = {}
    patient = npi = None
    line: _Line | None = None
    for index in range(start + 1, stop):
        segment = body[index]
        elements = segment[2]
        seg_id = elements[0]
        if seg_id == "SVC":
            if line is not None:
                lines.append(line.close(values))
            line = _Line(segment, values, component)
        elif line is not None:
            line.add(segment, values)
        elif seg_id == "CAS":
            adjustments.extend(read_cas(values, segment))
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
            dates[elements[1] if len(elements) > 1 else ""] = values.date(segment, 2)
        elif seg_id == "REF":
            references.append(_reference(elements))
        elif seg_id not in CLAIM_IGNORED:
            values.unexpected(segment, "a claim (loop 2100)")
    if line is not None:
        lines.append(line.close(values))
    el = clp[2] + PADDING[: max(0, 10 - len(clp[2]))]
    claim = ClaimPayment(
        claim_id=el[1],
        status=el[2],
        billed=values.money(clp, 3),
        paid=values.money(clp, 4),
        patient_responsibility=values.optional_money(clp, 5),
        filing_indicator=el[6] or None,
        payer_claim_control_number=el[7] or None,
        facility_code=el[8] or None,
        frequency_code=el[9] or None,
        patient=patient,
        rendering_provider_npi=npi,
        statement_start=dates.get("232"),
        statement_end=dates.get("233"),
        received_date=dates.get("050"),
        provider_id=provider_id,
        adjustments=tuple(adjustments),
        service_lines=tuple(lines),
        references=tuple(references),
        others=tuple(others),
        source=values.source(body, start, stop),
    )
    if lines:
        check_balance(
            values.reporter,
            clp,
            "unbalanced-claim",
            "CLP04 = sum(SVC03) - sum(claim-level CAS)",
            sum([line.paid for line in lines], ZERO)
            - sum([adj.amount for adj in adjustments], ZERO),
            claim.paid,
        )
    return claim


class _Line:
    """A service line being read: SVC and what follows it until the next SVC."""

    __slots__ = (
        "adjustments", "allowed", "control", "dates", "product", "references", "remarks", "svc"
    )

    def __init__(self, svc: Segment, values: Values, component: str) -> None:
        self.svc = svc
        self.adjustments: list[Adjustment] = []
        self.references: list[Reference] = []
        self.remarks: list[str] = []
        self.dates: dict[str, date | None] = {}
        self.control: str | None = None
        self.allowed: Decimal | None = None
        self.product = check_composite(values.reporter, svc, 1, component, required=True)

    def add(self, segment: Segment, values: Values) -> None:
        elements = segment[2]
        seg_id = elements[0]
        qualifier = elements[1] if len(elements) > 1 else ""
        if seg_id == "CAS":
            self.adjustments.extend(read_cas(values, segment))
        elif seg_id == "DTM":
            self.dates[qualifier] = values.date(segment, 2)
        elif seg_id == "REF":
            if qualifier == "6R":
                self.control = elements[2] if len(elements) > 2 else ""
            else:
                self.references.append(_reference(elements))
        elif seg_id == "AMT":
            if qualifier == "B6":
                self.allowed = values.money(segment, 2)
        elif seg_id == "LQ":
            self.remarks.append(elements[2] if len(elements) > 2 else "")
        elif seg_id != "QTY":
            values.unexpected(segment, "a service line (loop 2110)")

    def close(self, values: Values) -> ServiceLine:
        svc, product, dates = self.svc, self.product, self.dates
        el = svc[2]
        line = ServiceLine(
            product_qualifier=product[0],
            product_id=product[1] if len(product) > 1 else "",
            modifiers=tuple(product[2:6]),
            billed=values.money(svc, 2),
            paid=values.money(svc, 3),
            revenue_code=el[4] or None if len(el) > 4 else None,
            units=values.optional_money(svc, 5),
            service_date=dates.get("472") or dates.get("150"),
            service_end_date=dates.get("151"),
            line_control_number=self.control,
            allowed_amount=self.allowed,
            adjustments=tuple(self.adjustments),
            remark_codes=tuple(self.remarks),
            references=tuple(self.references),
        )
        check_balance(
            values.reporter,
            svc,
            "unbalanced-line",
            "SVC02 - sum(CAS) = SVC03",
            line.billed - sum([adj.amount for adj in self.adjustments], ZERO),
            line.paid,
        )
        return line


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
