"""The operator's questions, answered from the message store — for the CLI and the console.

"Which files came from PBM Y today", "where is pharmacy X's remittance with check 12345",
"what is stuck and since when", "when did each pharmacy last get paid". Lists are newest
first and paged; list rows carry ids, amounts and trace numbers, never claim content.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from gateway.config.members import Roster
from gateway.daemon.parse import parse_file
from gateway.daemon.runtime import PartnerRuntime
from gateway.errors import ConfigError, InputError
from gateway.lifecycle.audit import FileTrail
from gateway.service.raw import parsed_view, raw_lines
from gateway.service.views import (
    PAGE_SIZE,
    Dashboard,
    DeliveryDetail,
    DocumentView,
    FileDetail,
    FileRow,
    Page,
    PartnerStatus,
    RosterRow,
    TraceHit,
)
from gateway.store.base import MessageStore
from gateway.store.models import DeliveryState, FileStatus, ReceivedFile
from gateway.store.operator import DeliveryQuery, FileQuery
from gateway.store.operator_models import DeliveryListing
from gateway.store.queue_depth import QueueTotals

PAGE_BYTES_LIMIT = 20 << 20  # findings and the parsed view are read live: only for files this big
TRACE_LIMIT = 200  # files a trace looks at (newest first)
MAX_AMOUNT = Decimal(10) ** 12


def normalise_amount(text: str) -> str:
    """An amount as the store keeps it (two decimals): ``1234.5`` -> ``1234.50``."""
    try:
        amount = Decimal(text.replace(",", "").replace("$", "").strip())
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        raise ConfigError(f"{text!r} is not an amount", fix="write e.g. 1234.50")
    return f"{amount:.2f}"


class Queries:
    """Read-only questions over one store."""

    def __init__(self, store: MessageStore) -> None:
        self.store = store

    # -- files -------------------------------------------------------------------------------

    def files(self, query: FileQuery, *, offset: int = 0, limit: int = PAGE_SIZE) -> Page[FileRow]:
        found = self.store.search_files(query, limit=limit + 1, offset=offset)
        rows = [self._file_row(f) for f in found[:limit]]
        return Page(rows, offset, limit, len(found) > limit)

    def _file_row(self, received: ReceivedFile) -> FileRow:
        documents = [d for d in self.store.documents_of_file(received.id) if d.ordinal >= 0]
        keys = [d.routing_keys for d in documents]
        traces = tuple(dict.fromkeys(k["trace_number"] for k in keys if k.get("trace_number")))
        amounts = [Decimal(k["amount"]) for k in keys if k.get("amount")]
        pharmacies = {d.routing_keys.get("owner") for d in documents} - {None}
        return FileRow(received, len(documents), len(pharmacies), traces,
                       sum(amounts, Decimal(0)) if amounts else None)

    def file(self, file_id: int, *, claims: bool, raw_offset: int = 0,
             raw_lines_max: int = 500) -> FileDetail:
        """A file's page. ``claims`` (operators and admins) adds the raw segments and the
        parsed view, which carry claim-level content."""
        received = self.store.get_file(file_id)
        deliveries = self.store.deliveries_of_file(file_id)
        views = [DocumentView(d, [x for x in deliveries if x.document_id == d.id])
                 for d in self.store.documents_of_file(file_id)]
        small = received.size <= PAGE_BYTES_LIMIT
        detail = FileDetail(
            file=received, events=self.store.events("file", file_id),
            documents=[v for v in views if v.document.ordinal >= 0],
            acks=[v for v in views if v.document.kind.startswith("ack-")],
            findings=self._findings(received) if small else None,
            note="" if small else f"the file is {received.size:,} bytes: findings and the "
            f"parsed view are not read for a page; run `gateway validate` on it",
        )
        if not claims:
            return detail
        with self.store.open_payload(received.sha256) as stream:
            lines, more = raw_lines(stream, offset=raw_offset, limit=raw_lines_max)
        with self.store.open_payload(received.sha256) as stream:
            parsed = parsed_view(stream, received) if small else None
        return FileDetail(**{**detail.__dict__, "raw": lines, "raw_more": more,
                             "parsed": parsed})

    def _findings(self, received: ReceivedFile) -> list[str]:
        if received.status is FileStatus.DUPLICATE:
            return []
        with self.store.open_payload(received.sha256) as stream:
            try:
                found = parse_file(stream, received).findings
            except InputError as exc:
                return [str(exc)]
        return [f"{'error' if f.fatal else 'warning'} {f.code} at {f.location}: {f.message}"
                for f in found]

    # -- deliveries --------------------------------------------------------------------------

    def deliveries(self, query: DeliveryQuery, *, offset: int = 0,
                   limit: int = PAGE_SIZE) -> Page[DeliveryListing]:
        found = self.store.search_deliveries(query, limit=limit + 1, offset=offset)
        return Page(found[:limit], offset, limit, len(found) > limit)

    def delivery(self, delivery_id: int) -> DeliveryDetail:
        delivery = self.store.get_delivery(delivery_id)
        document = self.store.get_document(delivery.document_id)
        received = self.store.get_file(document.file_id)
        return DeliveryDetail(DeliveryListing(delivery, received.id, received.partner),
                              document, self.store.events("delivery", delivery_id))

    # -- the day's overview -------------------------------------------------------------------

    def dashboard(self, partners: Mapping[str, PartnerRuntime],
                  last_polls: Mapping[str, datetime], holidays: frozenset[date],
                  *, today_since: datetime, now: datetime | None = None) -> Dashboard:
        now = now or datetime.now(UTC)
        today = self.store.file_counts(since=today_since)
        ever = self.store.file_counts()
        pauses = self.store.partner_pauses()
        rows = []
        for pid, partner in partners.items():
            mine_today = [c for c in today if c.partner == pid]
            mine = [c for c in ever if c.partner == pid]
            fresh = [c.last_received_at for c in mine
                     if c.status is not FileStatus.DUPLICATE and c.last_received_at]
            last = max(fresh, default=None)
            missed = [r for r in partner.sla if r.missed(now, last, holidays)]
            sla = "-" if not partner.sla else (
                f"MISSED ({missed[0].describe()})" if missed else "ok")
            rows.append(PartnerStatus(
                pid, pauses.get(pid), last_polls.get(pid), sum(c.count for c in mine_today),
                last, sum(c.count for c in mine if c.status is FileStatus.QUARANTINED), sla))
        queue = QueueTotals.of(self.store.queue_depth())
        return Dashboard(
            partners=rows, queue=list(queue.rows),
            dead=queue.count({DeliveryState.DEAD}),
            held=queue.count({DeliveryState.HELD}),
            quarantined=sum(c.count for c in ever if c.status is FileStatus.QUARANTINED),
            alerts=self.store.recent_alerts(20),
        )

    def roster(self, roster: Roster) -> list[RosterRow]:
        last = self.store.last_documents_by_pharmacy()
        return [RosterRow(member, last.get(member.pharmacy_id)) for member in roster]

    # -- trace -------------------------------------------------------------------------------

    def trace(self, query: FileQuery) -> list[TraceHit]:
        """Every document of the matching files that the query's pharmacy, trace number and
        amount name (all of a file's documents when it names none), newest file first."""
        hits = []
        for received in self.store.search_files(query, limit=TRACE_LIMIT):
            # a file rolled up under retention has its deliveries in the audit table
            deliveries = (self.store.deliveries_of_file(received.id)
                          or FileTrail.of(self.store, received.id).deliveries)
            for document in self.store.documents_of_file(received.id):
                if _matches(document.routing_keys, query) or (
                        query.pharmacy and any(d.destination == query.pharmacy
                                               for d in deliveries
                                               if d.document_id == document.id)):
                    mine = [d for d in deliveries if d.document_id == document.id]
                    hits.append(TraceHit(received, DocumentView(document, mine)))
        return hits


def _matches(keys: Mapping[str, str], query: FileQuery) -> bool:
    if query.pharmacy and query.pharmacy not in {
            keys.get(k) for k in ("pharmacy_id", "npi", "ncpdp_id", "tin", "payee_npi")}:
        return False
    if query.trace_number and keys.get("trace_number") != query.trace_number:
        return False
    return not (query.amount and keys.get("amount") != query.amount)
