"""Signed overpunch (zoned decimal) and implied decimals, as NCPDP money fields carry them.

An NCPDP amount such as 409-D9 (s9(6)v99) has no decimal point and no sign character: the
*last* character carries both the last digit and the sign (``{``/``A``-``I`` positive,
``}``/``J``-``R`` negative), and the decimal point is implied. ``557{`` is +55.70 and
``1234J`` is -123.41. Never floats: a pharmacy reconciles to the cent.

Decoding is lenient where the trade is (a plain trailing digit is read as positive, leading
zeros are accepted); encoding writes the shortest canonical form (or zero-pads to a width).
"""

from __future__ import annotations

from decimal import Decimal

POSITIVE = "{ABCDEFGHI"  # index = last digit, sign +
NEGATIVE = "}JKLMNOPQR"  # index = last digit, sign -

_LAST: dict[str, tuple[str, int]] = {}
for _digit in range(10):
    _LAST[POSITIVE[_digit]] = (str(_digit), 1)
    _LAST[NEGATIVE[_digit]] = (str(_digit), -1)
    _LAST[str(_digit)] = (str(_digit), 1)  # unsigned digit: positive in practice


class OverpunchError(ValueError):
    """The text is not a valid overpunched number (the checks turn this into a finding)."""


def decode(text: str, places: int = 2) -> Decimal:
    """``"557{"`` -> Decimal("55.70"); negative zero normalises to 0 with ``places`` decimals."""
    if not text:
        raise OverpunchError("empty value")
    last = _LAST.get(text[-1])
    head = text[:-1]
    if last is None:
        raise OverpunchError(f"last character {text[-1]!r} is not a digit or overpunch sign")
    if head and not (head.isascii() and head.isdigit()):
        raise OverpunchError(f"{head!r} before the sign character is not all digits")
    digit, sign = last
    units = int(head + digit)
    return Decimal(sign * units if units else 0).scaleb(-places)


def encode(value: Decimal, places: int = 2, width: int = 0) -> str:
    """Decimal("-123.41") -> ``"1234J"``; ``width`` zero-pads on the left (0 = shortest)."""
    units = int((value.scaleb(places)).to_integral_value())
    digits = str(abs(units)).zfill(max(width, 1))
    table = NEGATIVE if units < 0 else POSITIVE
    return digits[:-1] + table[int(digits[-1])]


def decode_unsigned(text: str, places: int) -> Decimal:
    """Implied decimals without sign, e.g. 442-E7 9(7)v999: ``"30000"`` -> 30.000."""
    if not (text and text.isascii() and text.isdigit()):
        raise OverpunchError(f"{text!r} is not an unsigned number")
    return Decimal(int(text)).scaleb(-places)


def encode_unsigned(value: Decimal, places: int, width: int = 0) -> str:
    """Decimal("30.000"), 3 -> ``"30000"``; negative values are refused (the format has no sign)."""
    units = int((value.scaleb(places)).to_integral_value())
    if units < 0:
        raise OverpunchError(f"{value} is negative but the field is unsigned")
    return str(units).zfill(max(width, 1))
