"""Business parts declared by field id: a wrong declaration fails when the class is made."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.ncpdp.part import Part, text, typed
from gateway.ncpdp.response_parts import ResponsePricing
from gateway.ncpdp.transmission import Segment


def test_a_field_the_dictionary_does_not_place_in_the_segment_fails_at_class_creation():
    with pytest.raises(TypeError, match=r"Typo\.cost: field 'F5' is not in .*fields\.csv"):

        class Typo(Part, segments=("07",)):  # F5 is a response pricing field (23)
            cost: Decimal | None = typed("F5")


def test_a_wire_order_must_name_every_field_once():
    with pytest.raises(TypeError, match="must name"):

        class Short(Part, segments=("02",), wire="EY"):
            id_qualifier: str | None = text("EY")
            id: str | None = text("E9")


def test_reading_and_composing_come_from_the_one_declaration():
    segment = Segment.build("23", [("F5", "50{"), ("FI", "50{"), ("J2", "1"), ("J3", "04"),
                                   ("J4", "25{"), ("F9", "1000{")])  # fmt: skip
    pricing = ResponsePricing.of(segment)
    assert pricing is not None
    assert (pricing.patient_pay, pricing.total_amount_paid) == (Decimal("5.00"), Decimal("100.00"))
    assert [a.amount for a in pricing.other_amounts_paid] == [Decimal("2.50")]
    # written in the standard's order, the count before its repetitions
    assert [fid for fid, value in pricing.wire_pairs() if value is not None] == [
        "F5", "J2", "J3", "J4", "F9", "FI"]
