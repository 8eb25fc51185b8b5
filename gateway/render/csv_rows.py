"""Remittances as CSV: one row per claim (or service line), columns from the mapping."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import BinaryIO

from gateway.model import Remittance
from gateway.render.mapping import Mapping
from gateway.render.rows import claim_scopes


def render_csv(remittances: Iterable[Remittance], mapping: Mapping, out: BinaryIO) -> None:
    """Write the header and one row per claim (``row = "line"``: per service line), UTF-8."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    try:
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow([column.name for column in mapping.columns])
        for scope in claim_scopes(remittances, per_line=mapping.row == "line"):
            writer.writerow([column.value(scope) for column in mapping.columns])
        text.flush()
    finally:
        text.detach()  # leave ``out`` open: the caller owns it
