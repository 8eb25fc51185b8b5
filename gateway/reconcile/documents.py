"""A reconciliation report as files: CSV (one row per claim), JSON (the summary), HTML.

:func:`build_report` runs the reconciliation once and keeps what the three formats need: the
CSV rows are streamed to a spooled temporary file (a million claims never sit in memory), the
HTML's "needs attention" list is capped at :data:`ATTENTION_ROWS` (the CSV has them all).
Money is written exactly (Decimal text); no PHI is in any of it — the ledger holds none.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import tempfile
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import IO, Any

from gateway.reconcile.config import ReconcileConfig
from gateway.reconcile.ledger import Ledger, Scope
from gateway.reconcile.outcomes import ClaimOutcome
from gateway.reconcile.report import Summary, reconcile

FORMATS = ("csv", "json", "html")
COLUMNS = tuple(f.name for f in dataclasses.fields(ClaimOutcome))
ATTENTION = ("short-paid", "over-paid", "unpaid", "paid-twice", "unmatched-payment")
ATTENTION_ROWS = 200


@dataclass
class Report:
    """One pharmacy's (or every pharmacy's) reconciliation for one period."""

    summary: Summary
    rows: IO[str]  # the CSV, rewound
    attention: list[ClaimOutcome] = field(default_factory=list)
    title: str = ""

    def render(self, fmt: str) -> bytes:
        if fmt == "csv":
            self.rows.seek(0)
            return self.rows.read().encode("utf-8")
        if fmt == "json":
            return (json.dumps(summary_json(self.summary), indent=2) + "\n").encode("utf-8")
        if fmt == "html":
            from gateway.reconcile.page import render_page  # matplotlib: only when asked

            return render_page(self.summary, self.attention, self.title).encode("utf-8")
        raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")

    def close(self) -> None:
        self.rows.close()


def build_report(ledger: Ledger, scope: Scope, config: ReconcileConfig, *,
                 title: str = "") -> Report:
    rows: IO[str] = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (the Report closes it)
        max_size=8 << 20, mode="w+", encoding="utf-8", newline="")
    writer = csv.writer(rows)
    writer.writerow(COLUMNS)
    attention: list[ClaimOutcome] = []

    def emit(outcome: ClaimOutcome) -> None:
        writer.writerow(["" if v is None else v for v in dataclasses.astuple(outcome)])
        if outcome.outcome in ATTENTION and len(attention) < ATTENTION_ROWS:
            attention.append(outcome)

    summary = reconcile(ledger, scope, config, emit, itemise=scope.pharmacy is not None)
    rows.seek(0)
    return Report(summary, rows, attention, title or _title(scope))


def _title(scope: Scope) -> str:
    who = f"pharmacy {scope.pharmacy}" if scope.pharmacy else "every pharmacy"
    pbm = f", {scope.pbm}" if scope.pbm else ""
    return f"Claims reconciliation: {who}{pbm}, {scope.start} to {scope.end}"


def summary_json(summary: Summary) -> dict[str, Any]:
    """The summary as JSON: amounts as exact strings, dates ISO."""
    scope = summary.scope
    document: dict[str, Any] = _plain({
        "pharmacy": scope.pharmacy, "pbm": scope.pbm,
        "period": {"from": scope.start, "to": scope.end}, "as_of": scope.as_of,
        "claims": summary.claims,
        "outcomes": {name: dataclasses.asdict(t) for name, t in summary.by_outcome.items()},
        "aging": {name: {"count": t.count, "expected": t.expected}
                  for name, t in summary.aging.items()},
        "pbms": {pbm: {
            "claims": totals.claims.count, "expected": totals.claims.expected,
            "paid": totals.claims.paid, "variance": totals.claims.variance,
            "dir": {"claims": totals.dir_claims, "plb": totals.dir_plb,
                    "total": totals.dir_total},
            "plb": dict(sorted(totals.plb.items())),
            "payments": totals.payments, "paid_net": totals.paid,
        } for pbm, totals in sorted(summary.by_pbm.items())},
        "payments": [dict(dataclasses.asdict(p), net=p.net) for p in summary.payments],
        "plb_items": [dataclasses.asdict(item) for item in summary.plb_items],
    })
    return document


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal | date):
        return str(value)
    return value


def csv_text(outcomes: list[ClaimOutcome]) -> str:
    """Outcomes as CSV text (the audit pack's claims sheet)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for outcome in outcomes:
        writer.writerow(["" if v is None else v for v in dataclasses.astuple(outcome)])
    return out.getvalue()
