"""The ledger's money: exact integer cents out of the reader's Decimals, and the CAS summary
text a claim payment row carries ("CO-45:1234|PR-3:500").

The ledger stores integer cents (exact, and cheap at a million claims); the reports turn
them into Decimal. An amount with fractions of a cent is refused, never rounded.
"""

from __future__ import annotations

from decimal import Decimal

from gateway.errors import InputError, Location
from gateway.model import Adjustment


def cents(amount: Decimal | None, where: Location | None = None) -> int | None:
    """Exact integer cents; an amount with fractions of a cent is refused, not rounded.

    An amount of dollars and cents below 10**20 is plain integer arithmetic on its exact
    ratio (a million-claim file has millions of amounts); anything else — fractions of a cent,
    more digits than Decimal's context holds, NaN — takes the Decimal path, which says what
    it always said."""
    if amount is None:
        return None
    try:
        if -_DIGITS < amount.adjusted() < _DIGITS:
            numerator, denominator = amount.as_integer_ratio()
            if not 100 % denominator:
                return numerator * 100 // denominator
    except (ValueError, OverflowError):  # NaN, infinity
        pass
    scaled = amount.scaleb(2)
    if scaled != scaled.to_integral_value():
        raise InputError(f"amount {amount} has fractions of a cent", code="amount-precision",
                         where=where, fix="amounts are dollars and cents; ask the sender")
    return int(scaled)


_DIGITS = 20  # amounts with fewer integer digits are exact in Decimal's 28-digit context


def summarize_adjustments(adjustments: tuple[Adjustment, ...], into: dict[str, int]) -> None:
    """Add CAS amounts into ``into`` by "GROUP-REASON" (CO-45, PR-3, CO-295)."""
    for adjustment in adjustments:
        key = f"{adjustment.group}-{adjustment.reason}"
        into[key] = into.get(key, 0) + (cents(adjustment.amount) or 0)


def adjustment_text(totals: dict[str, int]) -> str:
    """``"CO-45:1234|PR-3:500"``: the totals by key, in key order."""
    if len(totals) == 1:
        [(key, amount)] = totals.items()
        return f"{key}:{amount}"
    return "|".join([f"{key}:{totals[key]}" for key in sorted(totals)])


def parse_adjustments(text: str) -> dict[str, int]:
    """The inverse of :func:`adjustment_text`."""
    out: dict[str, int] = {}
    for item in filter(None, text.split("|")):
        key, _, amount = item.rpartition(":")
        out[key] = out.get(key, 0) + int(amount)
    return out
