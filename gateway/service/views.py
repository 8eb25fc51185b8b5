"""What the operator queries return: plain frozen dataclasses the CLI prints, the console
renders into pages and the JSON API returns (see gateway/console/schemas.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Generic, TypeVar

from gateway.config.members import Member
from gateway.store.models import Delivery, Document, Event, QueueDepth, ReceivedFile
from gateway.store.operator_models import DeliveryListing, PartnerPause, PharmacyDocument

T = TypeVar("T")
PAGE_SIZE = 50


def age(since: datetime | None, now: datetime | None = None) -> str:
    """How long ago, as an operator reads it: ``45s``, ``12m``, ``3h``, ``2d``."""
    if since is None:
        return "-"
    seconds = int(((now or datetime.now(UTC)) - since).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a newest-first list; ``has_more`` says whether a next page exists."""

    items: list[T]
    offset: int
    limit: int
    has_more: bool


@dataclass(frozen=True)
class FileRow:
    """A file on a list: no claim content, only what identifies the payment."""

    file: ReceivedFile
    documents: int
    pharmacies: int
    trace_numbers: tuple[str, ...]
    amount: Decimal | None  # sum of the parts' BPR02, when the file was split


@dataclass(frozen=True)
class DocumentView:
    document: Document
    deliveries: list[Delivery]

    @property
    def trace_number(self) -> str:
        return self.document.routing_keys.get("trace_number", "")

    @property
    def amount(self) -> str:
        return self.document.routing_keys.get("amount", "")

    @property
    def pharmacy(self) -> str:
        keys = self.document.routing_keys
        return keys.get("pharmacy_id") or keys.get("npi") or keys.get("ncpdp_id") or ""


@dataclass(frozen=True)
class FileDetail:
    """A file's page: its events, its parts and their deliveries, acknowledgments, findings;
    ``raw`` and ``parsed`` (claim-level content) only for operators and admins."""

    file: ReceivedFile
    events: list[Event]
    documents: list[DocumentView]
    acks: list[DocumentView]
    findings: list[str] | None  # None: not computed (the file is too large for a page)
    raw: list[str] | None = None
    raw_more: bool = False
    parsed: str | None = None
    note: str = ""


@dataclass(frozen=True)
class DeliveryDetail:
    listing: DeliveryListing
    document: Document
    events: list[Event]


@dataclass(frozen=True)
class PartnerStatus:
    id: str
    paused: PartnerPause | None
    last_poll: datetime | None
    files_today: int
    last_file_at: datetime | None
    quarantined: int
    sla: str  # "-", "ok" or "MISSED (...)"


@dataclass(frozen=True)
class Dashboard:
    partners: list[PartnerStatus]
    queue: list[QueueDepth]
    dead: int
    held: int
    quarantined: int
    alerts: list[Event] = field(default_factory=list)


@dataclass(frozen=True)
class RosterRow:
    member: Member
    last: PharmacyDocument | None

    @property
    def trace_number(self) -> str:
        return self.last.document.routing_keys.get("trace_number", "") if self.last else ""

    @property
    def amount(self) -> str:
        return self.last.document.routing_keys.get("amount", "") if self.last else ""


@dataclass(frozen=True)
class TraceHit:
    """One document of one file that a trace matched, with its deliveries."""

    file: ReceivedFile
    document: DocumentView
