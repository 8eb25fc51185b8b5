"""One summary line per transaction set (X12 835) or per transmission (NCPDP): the numbers an
operator checks first. ``gateway parse --format summary`` prints them; ``gateway export``
puts them beside the raw files of an incident or audit bundle.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from gateway.model import TransactionEnd, TransactionHeader
from gateway.ncpdp import ClaimRequest, Document
from gateway.x12.read.transaction import Item


def write_summary(items: Iterable[Item], out: TextIO,
                  repeated: dict[int, str] | None = None) -> None:
    """One line per remittance: ST02, payee ids, claim count, sum CLP04, sum PLB, BPR02; a
    set repeating an earlier interchange or payment of the file says so (``repeated``: why,
    by ST byte offset), and a last line counts the distinct payments."""
    repeated = repeated or {}
    sets = 0
    header: TransactionHeader | None = None
    for item in items:
        if type(item) is TransactionHeader:
            header = item
        elif type(item) is TransactionEnd and header is not None:
            payee = header.payee
            out.write(
                f"st={item.control_number} payee_npi={payee.npi or '-'} "
                f"ncpdp={payee.ncpdp_id or '-'} tin={payee.tin or '-'} "
                f"claims={item.claim_count} clp04_sum={item.total_claim_paid} "
                f"plb_sum={item.total_provider_adjustments} "
                f"bpr02={header.payment.amount}"
            )
            sets += 1
            why = repeated.get(header.source.start_offset)
            out.write(f" DUPLICATE: {why}\n" if why else "\n")
    if repeated:
        out.write(f"note: {len(repeated)} of {sets} transaction sets repeat an earlier "
                  f"interchange or payment of this file: {sets - len(repeated)} distinct "
                  "payment(s)\n")


def write_ncpdp_summary(documents: Iterable[Document], out: TextIO) -> None:
    """One line per transmission: record, request/response, code, pharmacy, statuses."""
    for document in documents:
        header = document.header
        if isinstance(document, ClaimRequest):
            kind, statuses = "request", "-"
        else:
            kind = "response"
            statuses = ",".join(
                ((t.status.status if t.status else None) or "?") for t in document.transactions
            ) or "-"
        out.write(
            f"record={document.source.record_number or '-'} kind={kind} "
            f"code={header.transaction_code} provider={header.service_provider_id or '-'} "
            f"transactions={len(document.transactions)} status={statuses} "
            f"findings={len(document.findings)}\n"
        )
