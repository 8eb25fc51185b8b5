"""Audit support: the whole trail of the prescriptions a PBM audit letter lists.

For each listed Rx (and date of service, when the letter gives one): the claim as submitted
(B1/B3/B2), as adjudicated (112-AN, 503-F3, 509-F9), every payment and reversal with its 835
file, payment date and trace number, its service lines and adjustments — and what is missing
(no response, no payment, a short payment, a payment without a claim, nothing at all). The
pharmacy answers the audit with ``audit.csv`` and ``audit.html``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError
from gateway.reconcile.config import rx_key
from gateway.reconcile.facts import ClaimPaymentFact, LineFact, RequestFact, ResponseFact
from gateway.reconcile.html_table import page_head, table
from gateway.reconcile.ledger import Ledger, LedgerReads, as_date
from gateway.reconcile.matching import Prescription, fills_of
from gateway.reconcile.outcomes import ClaimOutcome, dollars, fill_outcome, unmatched_outcome

COLUMNS = ("rx_number", "fill_number", "date_of_service", "record", "transaction_code",
           "status", "amount", "detail", "file", "received_at", "trace_number", "payment_date",
           "payer_claim_number", "adjustments")
Wanted = tuple[str, date | None]


def read_rx_list(path: Path) -> list[Wanted]:
    """``rx_number[,date_of_service]`` per line; a header line is allowed."""
    wanted: list[Wanted] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for line, row in enumerate(csv.reader(handle), 1):
            if not row or not row[0].strip() or (line == 1 and not row[0].strip().isdigit()):
                continue
            rx = row[0].strip()
            when = row[1].strip() if len(row) > 1 else ""
            try:
                wanted.append((rx_key(rx), date.fromisoformat(when) if when else None))
            except ValueError:
                raise ConfigError(f"{when!r} is not a date YYYY-MM-DD", where=f"{path}:{line}",
                                  fix="write rx_number,date_of_service like 1234567,2026-01-15"
                                  ) from None
            if not rx.isdigit():
                raise ConfigError(f"{rx!r} is not an Rx number", where=f"{path}:{line}",
                                  fix="the first column holds the prescription number")
    return wanted


def write_audit_pack(ledger: Ledger, pharmacy: str, pbm: str, wanted: Sequence[Wanted],
                     out: Path, *, as_of: date, title: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    sections: list[tuple[Wanted, list[list[Any]]]] = []
    with ledger.reading() as reads:
        files = {row[0]: (row[2], row[3]) for row in reads.rows("file_names", {})}
        for item in wanted:
            sections.append((item, _trail(reads, pharmacy, pbm, item, as_of, files)))
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(COLUMNS)
    for _, rows in sections:
        writer.writerows([["" if v is None else v for v in row] for row in rows])
    csv_path, html_path = out / "audit.csv", out / "audit.html"
    csv_path.write_text(text.getvalue(), encoding="utf-8")
    html = [page_head(title), f"<p class=\"note\">As of {as_of}; {len(wanted)} prescriptions "
            "listed. Every row names the file it comes from.</p>"]
    for (rx, when), rows in sections:
        html.append(f"<h2>Rx {rx}{f' of {when}' if when else ''}</h2>")
        html.append(table(COLUMNS[1:], [row[1:] for row in rows]))
    html.append("</body></html>\n")
    html_path.write_text("\n".join(html), encoding="utf-8")
    return [csv_path, html_path]


def _trail(reads: LedgerReads, pharmacy: str, pbm: str, wanted: Wanted, as_of: date,
           files: dict[int, tuple[str, Any]]) -> list[list[Any]]:
    rx, when = wanted
    params = {"pharmacy": pharmacy, "rx_number": rx, "as_of": as_of}

    def on_day(fact: Any) -> bool:
        return when is None or fact.date_of_service in (when, None)

    group = Prescription(
        pharmacy, rx,
        [r for r in reads.facts("requests_of_rx", RequestFact, params) if on_day(r)],
        [r for r in reads.facts("responses_of_rx", ResponseFact, params) if on_day(r)],
        [p for p in reads.facts("claim_payments_of_rx", ClaimPaymentFact, params)
         if on_day(p) and p.pbm == pbm])
    fills, unmatched = fills_of(group)
    rows: list[list[Any]] = []
    for fill in fills:
        if fill.pbm != pbm:
            continue
        for request, response in fill.adjudications:
            if request is not None:
                rows.append(_row(request, "claim submitted", request.transaction_code, None,
                                 dollars(request.gross_amount_due),
                                 f"BIN {request.bin} PCN {request.pcn} NDC {request.ndc} "
                                 f"qty {request.quantity} days {request.days_supply}", files))
            if response is not None:
                rows.append(_row(response, "adjudicated", response.transaction_code,
                                 response.status, dollars(response.total_paid),
                                 f"authorization {response.authorization_number or '-'}"
                                 + (f" rejects {response.reject_codes}"
                                    if response.reject_codes else ""), files))
        rows += _payment_rows(reads, fill.payments, files)
        rows.append(_outcome_row(fill_outcome(pharmacy, rx, fill, as_of)))
    if unmatched:
        rows += _payment_rows(reads, unmatched, files)
        rows.append(_outcome_row(unmatched_outcome(pharmacy, rx, unmatched)))
    if not rows:
        rows.append([rx, None, when, "missing", None, None, None,
                     "no claim and no payment for this Rx in the ledger", None, None, None,
                     None, None, None])
    return rows


def _row(fact: RequestFact | ResponseFact, record: str, code: str | None, status: str | None,
         amount: Any, detail: str, files: dict[int, tuple[str, Any]]) -> list[Any]:
    name, received = files.get(fact.file_id, (f"file {fact.file_id}", None))
    fill = fact.fill_number if isinstance(fact, RequestFact) else None
    return [fact.rx_number, fill, fact.date_of_service, record, code, status, amount, detail,
            name, _day(received), None, None, None, None]


def _payment_rows(reads: LedgerReads, payments: Sequence[ClaimPaymentFact],
                  files: dict[int, tuple[str, Any]]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for p in payments:
        name, received = files.get(p.file_id, (f"file {p.file_id}", None))
        record = "reversal" if p.status == "22" else "payment"
        rows.append([p.rx_number, p.fill_number, p.date_of_service, record, None, p.status,
                     dollars(p.paid), f"CLP01 {p.claim_id}, billed {dollars(p.billed)}", name,
                     _day(received), p.trace_number, p.payment_date,
                     p.payer_claim_control_number, p.adjustments])
        params = {"file_id": p.file_id, "claim_seq": p.seq}
        for line in reads.facts("lines_of_claim", LineFact, params):
            rows.append([p.rx_number, p.fill_number, line.service_date, "service line", None,
                         None, dollars(line.paid),
                         f"{line.product_qualifier} {line.product_id}, units {line.units}",
                         name, _day(received), p.trace_number, p.payment_date, None,
                         line.adjustments])
    return rows


def _outcome_row(outcome: ClaimOutcome) -> list[Any]:
    missing = {
        "unpaid": f"no payment received ({outcome.age_days} days)",
        "short-paid": f"short by {-(outcome.variance or 0)}",
        "over-paid": f"over by {outcome.variance}",
        "paid-twice": f"paid twice: {outcome.variance} more than adjudicated",
        "no-response": "no adjudication (response) in the ledger",
        "rejected": "rejected at the point of sale",
        "unmatched-payment": "a payment without a matching claim",
    }.get(outcome.outcome, "nothing missing")
    return [outcome.rx_number, outcome.fill_number, outcome.date_of_service, "outcome",
            outcome.transaction_code, outcome.outcome, outcome.paid, missing, None, None,
            outcome.traces, None, None, outcome.adjustments]


def _day(value: Any) -> Any:
    """received_at: epoch seconds on SQLite, a timestamp on PostgreSQL; shown as a date."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).date()
    return value.date() if isinstance(value, datetime) else as_date(value)
