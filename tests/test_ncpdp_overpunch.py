"""Overpunch and implied decimals: the whole sign table, both directions, edge cases."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.ncpdp import overpunch

POSITIVE = "{ABCDEFGHI"
NEGATIVE = "}JKLMNOPQR"


@pytest.mark.parametrize("digit", range(10))
@pytest.mark.parametrize("prefix", ["", "0", "12", "0000123"])
def test_every_last_character_decodes_to_its_digit_and_sign(prefix, digit):
    units = int(prefix + str(digit)) if prefix + str(digit) else 0
    assert overpunch.decode(prefix + POSITIVE[digit]) == Decimal(units).scaleb(-2)
    expected_negative = Decimal(-units).scaleb(-2) if units else Decimal("0.00")
    assert overpunch.decode(prefix + NEGATIVE[digit]) == expected_negative
    # a plain trailing digit is read as positive (what senders do in practice)
    assert overpunch.decode(prefix + str(digit)) == Decimal(units).scaleb(-2)


@pytest.mark.parametrize("digit", range(10))
def test_every_last_character_is_what_encode_writes(digit):
    assert overpunch.encode(Decimal(f"1.{digit}0") / 10, 2) == "1" + POSITIVE[digit]
    assert overpunch.encode(-Decimal(f"1.{digit}0") / 10, 2) == "1" + NEGATIVE[digit]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("557{", "55.70"),
        ("716E", "71.65"),
        ("10177E", "1017.75"),
        ("854A", "85.41"),
        ("0000000{", "0.00"),
        ("1234J", "-123.41"),
        ("5}", "-0.50"),
    ],
)
def test_reference_examples(text, value):
    assert overpunch.decode(text) == Decimal(value)


def test_negative_zero_is_zero_with_two_places():
    for text in ("}", "0}", "0000000}"):
        value = overpunch.decode(text)
        assert value == 0 and not value.is_signed() and str(value) == "0.00"
    assert overpunch.encode(Decimal("-0.00")) == "{"


def test_four_implied_decimals_for_percentages():
    assert overpunch.decode("5000{", 4) == Decimal("5.0000")
    assert overpunch.encode(Decimal("-1.2345"), 4) == "1234N"


def test_width_zero_pads():
    assert overpunch.encode(Decimal("1.50"), 2, width=8) == "0000015{"


@pytest.mark.parametrize("text", ["", "12X", "1.5{", "A1{", " 12{", "12S"])
def test_malformed_values_are_refused(text):
    with pytest.raises(overpunch.OverpunchError):
        overpunch.decode(text)


@given(st.decimals(min_value=-999999999, max_value=999999999, places=2, allow_nan=False))
def test_encode_decode_round_trip(value):
    text = overpunch.encode(value)
    assert text[-1] in POSITIVE + NEGATIVE
    assert overpunch.decode(text) == value


def test_unsigned_implied_decimals():
    assert overpunch.decode_unsigned("30000", 3) == Decimal("30.000")
    assert overpunch.decode_unsigned("0000001000", 3) == Decimal("1.000")
    assert overpunch.encode_unsigned(Decimal("120.5"), 3) == "120500"
    with pytest.raises(overpunch.OverpunchError):
        overpunch.encode_unsigned(Decimal("-1"), 3)
    with pytest.raises(overpunch.OverpunchError):
        overpunch.decode_unsigned("30{", 3)
