"""The scopes a mapping's field paths are read from: one per claim, or per service line."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from gateway.model import Remittance


def claim_scopes(
    remittances: Iterable[Remittance], per_line: bool = False
) -> Iterator[dict[str, Any]]:
    """For each claim (or service line) of each remittance, the objects its roots name."""
    for remittance in remittances:
        base = {
            "remittance": remittance, "payment": remittance.payment,
            "payer": remittance.payer, "payee": remittance.payee,
        }
        for group in remittance.groups:
            for claim in group.claims:
                scope = {**base, "group": group, "claim": claim}
                if not per_line:
                    yield scope
                    continue
                for line in claim.service_lines or (None,):
                    yield {**scope, "line": line}
