"""What the message store holds, as frozen dataclasses every back end returns.

The walk of one file (DESIGN.md) in rows: a **received file** (the raw bytes kept unchanged as
a payload), the **documents** parsed from it, one **delivery** per (document, destination,
format), and an append-only **event** for every state change. Times are timezone-aware UTC.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from gateway.errors import StoreError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


def utc(value: float | datetime | None) -> datetime | None:
    """A time column as an aware UTC datetime: SQLite keeps epoch seconds, PostgreSQL
    timestamptz. None stays None."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromtimestamp(value, UTC)


class FileStatus(StrEnum):
    """Where a received file is in the walk."""

    RECEIVED = "received"  # recorded and kept; not parsed yet
    DUPLICATE = "duplicate"  # same SHA-256 already received from this partner: not processed
    PARSED = "parsed"  # documents recorded
    ROUTED = "routed"  # deliveries created for every document
    HELD = "held"  # kept back as a whole (visible, reason in `error`): an operator releases it
    FAILED = "failed"  # a stage raised (reason in `error`): retried after a reload or by
    # `gateway files retry`, never silently skipped
    QUARANTINED = "quarantined"  # structurally broken: kept, not processed, reason in `error`


# The states that carry a reason in ReceivedFile.error.
WITH_REASON = (FileStatus.HELD, FileStatus.FAILED, FileStatus.QUARANTINED)


class DeliveryState(StrEnum):
    """The life of one delivery (guaranteed delivery with a dead letter channel).

    ``pending`` → ``leased`` (a worker holds it until ``due_at``) → ``delivered``; on an error
    ``failed`` (retried at ``due_at``) and, past the retry policy's limits, ``dead``. ``held``
    is for a destination the router could not resolve (unknown or inactive member): visible,
    never dropped, released by an operator.
    """

    PENDING = "pending"
    LEASED = "leased"
    DELIVERED = "delivered"
    FAILED = "failed"
    DEAD = "dead"
    HELD = "held"


# States a worker may claim from (a leased one only once its lease has expired).
CLAIMABLE = (DeliveryState.PENDING, DeliveryState.FAILED, DeliveryState.LEASED)


@dataclass(frozen=True)
class ReceivedFile:
    """A file pulled from a partner, recorded before the partner's copy is removed."""

    id: int
    partner: str
    remote_path: str
    original_name: str
    size: int
    mtime: datetime | None
    sha256: str  # also the payload key: the raw bytes, unchanged
    received_at: datetime
    status: FileStatus
    error: str | None = None
    duplicate_of: int | None = None


@dataclass(frozen=True)
class Receipt:
    """What :meth:`MessageStore.record_received` did: a new file, or a recorded duplicate."""

    file: ReceivedFile

    @property
    def duplicate(self) -> bool:
        return self.file.status is FileStatus.DUPLICATE


@dataclass(frozen=True)
class Document:
    """One document parsed from a file (an 835 transaction set, an NCPDP batch, ...).

    ``ordinal`` is its position in the file (from 0), which makes recording it idempotent.
    ``routing_keys`` are what the router matches members on (``payee_npi``, ``ncpdp_id``,
    ``tin``, ...). ``source_start``/``source_end`` locate it in the raw file (byte offsets or
    segment numbers, as the parser documents). ``payload_sha256`` names the rendered or split
    bytes, if the parser stored them.
    """

    id: int
    file_id: int
    ordinal: int
    kind: str
    routing_keys: dict[str, str] = field(default_factory=dict)
    source_start: int | None = None
    source_end: int | None = None
    payload_sha256: str | None = None


@dataclass(frozen=True)
class Delivery:
    """One (document, destination, format) in the delivery queue.

    ``due_at`` is when a worker may next take it: the next attempt time while pending or
    failed, the lease expiry while leased. ``enqueued_at`` starts the retry policy's age clock
    and is reset when an operator retries or replays.
    """

    id: int
    document_id: int
    destination: str
    format: str
    idempotency_key: str
    output_name: str
    state: DeliveryState
    attempts: int
    due_at: datetime | None
    enqueued_at: datetime
    created_at: datetime
    lease_token: str | None = None
    leased_by: str | None = None
    last_error: str | None = None
    output_sha256: str | None = None
    location: str | None = None
    payload_sha256: str | None = None
    delivered_at: datetime | None = None

    @property
    def lease_expires_at(self) -> datetime | None:
        return self.due_at if self.state is DeliveryState.LEASED else None


@dataclass(frozen=True)
class DeliveryRequest:
    """What the router asks for: send this document to this destination in this format.

    ``output_name`` is the deterministic name at the destination (a redo overwrites it).
    ``idempotency_key`` defaults to (document, destination, format). ``hold`` (a reason)
    records the delivery as held: an unknown or inactive member. ``payload_sha256`` names
    pre-rendered bytes; without it the document's payload is sent.
    """

    document_id: int
    destination: str
    format: str
    output_name: str
    idempotency_key: str | None = None
    payload_sha256: str | None = None
    hold: str | None = None

    @property
    def key(self) -> str:
        return self.idempotency_key or (
            f"doc:{self.document_id}|to:{self.destination}|as:{self.format}"
        )


@dataclass(frozen=True)
class Claim:
    """A delivery a worker now holds. ``token`` fences every later heartbeat, ack and fail."""

    delivery: Delivery
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class Event:
    """An append-only audit record: who did what to which entity, when and why."""

    id: int
    at: datetime
    actor: str
    entity_type: str  # "file", "document", "delivery", "partner"
    entity_id: str
    action: str
    reason: str = ""


@dataclass(frozen=True)
class QueueDepth:
    """One line of ``gateway queue``: how many deliveries per state and destination."""

    state: DeliveryState
    destination: str
    count: int
    oldest_enqueued_at: datetime | None


# -- rows to models (both back ends return rows with the same column names) -----------------


class Row(Protocol):
    """A result row, read by column name: a ``sqlite3.Row`` or a psycopg ``dict_row``. Only
    indexing is shared (a ``sqlite3.Row`` is a sequence of values, not a mapping)."""

    def __getitem__(self, column: str, /) -> Any: ...


_Model = TypeVar("_Model", bound="DataclassInstance")
_Enum = TypeVar("_Enum", bound=StrEnum)


def _from_row(model: type[_Model], row: Row, **convert: Callable[[Any], Any]) -> _Model:
    """``model`` built from the row's columns of the same names, some passed through a
    ``convert`` function first: the schema's column names *are* the field names, so a new
    column needs a new field and nothing else."""
    values = {}
    for name in _field_names(model):
        value = row[name]
        values[name] = convert[name](value) if name in convert else value
    return model(**values)


@cache
def _field_names(model: type[DataclassInstance]) -> tuple[str, ...]:
    return tuple(item.name for item in fields(model))


def _known(kind: type[_Enum]) -> Callable[[Any], _Enum]:
    """A state column read into its enum, once, at the edge: a value this gateway does not
    know (a newer gateway wrote it, or a hand edit) is a StoreError naming it, not a bare
    ValueError from deep inside a caller."""

    def parse(value: Any) -> _Enum:
        try:
            return kind(value)
        except ValueError:
            known = ", ".join(item.value for item in kind)
            raise StoreError(f"the store holds {kind.__name__} {value!r}, not one of: {known}",
                             fix="run the gateway version that wrote it (`gateway migrate` "
                             "says which schema this one expects)") from None

    return parse


def _json_object(value: str | Mapping[str, str]) -> dict[str, str]:
    """A JSON column: SQLite returns the text, PostgreSQL's jsonb the decoded object."""
    return json.loads(value) if isinstance(value, str) else dict(value)


_FILE_STATUS, _DELIVERY_STATE = _known(FileStatus), _known(DeliveryState)


def file_from_row(row: Row) -> ReceivedFile:
    return _from_row(ReceivedFile, row, mtime=utc, received_at=utc, status=_FILE_STATUS)


def document_from_row(row: Row) -> Document:
    return _from_row(Document, row, routing_keys=_json_object)


def delivery_from_row(row: Row) -> Delivery:
    times = dict.fromkeys(("due_at", "enqueued_at", "created_at", "delivered_at"), utc)
    return _from_row(Delivery, row, state=_DELIVERY_STATE, **times)


def event_from_row(row: Row) -> Event:
    return _from_row(Event, row, at=utc)


def depth_from_row(row: Row) -> QueueDepth:
    return _from_row(QueueDepth, row, state=_DELIVERY_STATE, oldest_enqueued_at=utc)


# -- what the operator console and the operator CLI read and keep -------------------------------


class Role(StrEnum):
    """What a console account may do: look (viewer), act on the queue (operator), and manage
    accounts (admin). Each role can do everything the one before it can."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    def allows(self, needed: Role) -> bool:
        order = list(Role)
        return order.index(self) >= order.index(needed)


@dataclass(frozen=True)
class User:
    """A console account (local; the password is kept only as an argon2 hash)."""

    name: str
    password_hash: str
    role: Role
    disabled: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ConsoleSession:
    """A signed-in browser: its token's SHA-256 (the token itself is only in the cookie)."""

    token_sha256: str
    user_name: str
    csrf_token: str
    created_at: datetime
    seen_at: datetime


@dataclass(frozen=True)
class PartnerPause:
    """An operator stopped polling this partner; the daemon skips it until resumed."""

    partner: str
    paused_by: str
    paused_at: datetime
    reason: str


@dataclass(frozen=True)
class DeliveryListing:
    """A delivery with the file it comes from, for lists filtered by partner or file."""

    delivery: Delivery
    file_id: int
    partner: str


@dataclass(frozen=True)
class FileCount:
    """How many files of one partner are in one status (``since`` a moment, or ever)."""

    partner: str
    status: FileStatus
    count: int
    last_received_at: datetime | None


@dataclass(frozen=True)
class PharmacyDocument:
    """The newest document routed to a pharmacy (its last remittance) and its file."""

    pharmacy_id: str
    document: Document
    partner: str
    received_at: datetime


_ROLE = _known(Role)


def user_from_row(row: Row) -> User:
    times = dict.fromkeys(("created_at", "updated_at"), utc)
    return _from_row(User, row, role=_ROLE, disabled=bool, **times)


def session_from_row(row: Row) -> ConsoleSession:
    return _from_row(ConsoleSession, row, created_at=utc, seen_at=utc)


def pause_from_row(row: Row) -> PartnerPause:
    return _from_row(PartnerPause, row, paused_at=utc)


def listing_from_row(row: Row) -> DeliveryListing:
    return DeliveryListing(delivery_from_row(row), row["file_id"], row["partner"])


def file_count_from_row(row: Row) -> FileCount:
    return _from_row(FileCount, row, status=_FILE_STATUS, last_received_at=utc)


def pharmacy_document_from_row(row: Row) -> PharmacyDocument:
    received = utc(row["received_at"])
    assert received is not None  # files.received_at is NOT NULL
    return PharmacyDocument(row["pharmacy_id"], document_from_row(row), row["partner"], received)
