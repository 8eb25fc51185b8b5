"""Provider-level adjustments (PLB) that fit the payment they come with, as payers make them.

Positive amounts reduce the payment (a fee, a recovery, a DIR clawback) and are cut to what is
left of it; negative ones (interest, a credit) increase it. When what is taken still outweighs
what was paid, a negative FB (balance forward) brings the net to zero instead of a negative
BPR02. Shared by the 835 generator and the reconciliation scenarios.
"""

from __future__ import annotations

Adjustment = tuple[str, str, int]  # (PLB reason, reference, cents)


def fit_to_payment(paid: int, wanted: list[Adjustment]) -> list[Adjustment]:
    """``wanted`` in order, each positive amount cut to what the payment still has."""
    available = max(paid, 0) - sum(amount for _, _, amount in wanted if amount < 0)
    pairs = []
    for reason, reference, amount in wanted:
        if amount > 0:
            amount = min(amount, available)
            available -= amount
        if amount:
            pairs.append((reason, reference, amount))
    net = paid - sum(amount for _, _, amount in pairs)
    if net < 0:
        pairs.append(("FB", "BALFWD", net))
    return pairs
