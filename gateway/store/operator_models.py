"""What the operator console and the operator CLI read and keep: accounts, sessions, partner
pauses and the listings their pages show, as frozen dataclasses every back end returns (the
message store's own rows are in :mod:`gateway.store.models`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from gateway.store.models import (
    Delivery,
    Document,
    FileStatus,
    Row,
    delivery_from_row,
    document_from_row,
    enum_reader,
    from_row,
    utc,
)

FILE_STATUS = enum_reader(FileStatus)



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


_ROLE = enum_reader(Role)


def user_from_row(row: Row) -> User:
    times = dict.fromkeys(("created_at", "updated_at"), utc)
    return from_row(User, row, role=_ROLE, disabled=bool, **times)


def session_from_row(row: Row) -> ConsoleSession:
    return from_row(ConsoleSession, row, created_at=utc, seen_at=utc)


def pause_from_row(row: Row) -> PartnerPause:
    return from_row(PartnerPause, row, paused_at=utc)


def listing_from_row(row: Row) -> DeliveryListing:
    return DeliveryListing(delivery_from_row(row), row["file_id"], row["partner"])


def file_count_from_row(row: Row) -> FileCount:
    return from_row(FileCount, row, status=FILE_STATUS, last_received_at=utc)


def pharmacy_document_from_row(row: Row) -> PharmacyDocument:
    received = utc(row["received_at"])
    assert received is not None  # files.received_at is NOT NULL
    return PharmacyDocument(row["pharmacy_id"], document_from_row(row), row["partner"], received)
