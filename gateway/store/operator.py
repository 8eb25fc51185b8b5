"""What operators search and change in the message store, and the console's accounts.

The operator CLI and the web console read and act through :mod:`gateway.service`, which
calls these; the SQL is in ``sql/<backend>/console.sql`` and the shared implementation in
``operator_sql.py``. Every change appends an audit event naming the actor, in the same
transaction.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

from gateway.store.models import Delivery, DeliveryState, Event, FileStatus, ReceivedFile
from gateway.store.operator_models import (
    ConsoleSession,
    DeliveryListing,
    FileCount,
    PartnerPause,
    PharmacyDocument,
    Role,
    User,
)


@dataclass(frozen=True)
class FileQuery:
    """What ``gateway files list`` and the console's file search filter on (all optional).

    ``pharmacy`` is a pharmacy id, NPI, NCPDP id or TIN; ``trace_number`` a TRN02 (check or
    EFT number); ``amount`` a part's BPR02 (normalised to two decimals by the caller);
    ``since``/``until`` bound the receive time (until is exclusive)."""

    status: FileStatus | None = None
    partner: str | None = None
    pharmacy: str | None = None
    trace_number: str | None = None
    amount: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class DeliveryQuery:
    """What ``gateway deliveries list`` and the console filter deliveries on (all optional);
    ``since``/``until`` bound the time the delivery was created."""

    state: DeliveryState | None = None
    destination: str | None = None
    partner: str | None = None
    pharmacy: str | None = None
    file_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


class OperatorStore(ABC):
    """What operators search, change and keep (gateway/store/operator_sql.py implements it)."""

    @abstractmethod
    def search_files(self, query: FileQuery, *, limit: int, offset: int = 0) -> list[ReceivedFile]:
        """Newest first."""

    @abstractmethod
    def search_deliveries(
        self, query: DeliveryQuery, *, limit: int, offset: int = 0
    ) -> list[DeliveryListing]:
        """Newest first, each with its file and partner."""

    @abstractmethod
    def file_counts(self, *, since: datetime | None = None) -> list[FileCount]:
        """Files per (partner, status), received since a moment (or ever)."""

    @abstractmethod
    def last_documents_by_pharmacy(self) -> dict[str, PharmacyDocument]:
        """Each pharmacy's newest routed document (its last remittance), by pharmacy id."""

    @abstractmethod
    def recent_alerts(self, limit: int = 20) -> list[Event]:
        """The newest ``alert`` and ``alert-resolved`` events, of any entity."""

    @abstractmethod
    def resend(
        self, delivery_id: int, *, destination: str | None = None, actor: str, reason: str = ""
    ) -> Delivery:
        """Send a delivery again now — delivered, failed, dead or pending alike — with a fresh
        attempt count, to ``destination`` when given (a redirect). Leased ones are in flight
        and held ones wait for :meth:`MessageStore.release`: both are refused."""

    @abstractmethod
    def pause_partner(self, partner: str, *, actor: str, reason: str = "") -> PartnerPause:
        """Stop polling a partner (every daemon on this store) until resumed."""

    @abstractmethod
    def resume_partner(self, partner: str, *, actor: str, reason: str = "") -> bool:
        """Poll it again; False when it was not paused."""

    @abstractmethod
    def partner_pauses(self) -> dict[str, PartnerPause]: ...

    # -- console accounts and sessions (argon2 hashes and token hashes only) -----------------

    @abstractmethod
    def add_user(self, name: str, password_hash: str, role: Role, *, actor: str) -> User: ...

    @abstractmethod
    def get_user(self, name: str) -> User | None: ...

    @abstractmethod
    def list_users(self) -> list[User]: ...

    @abstractmethod
    def update_user(
        self,
        name: str,
        *,
        actor: str,
        password_hash: str | None = None,
        role: Role | None = None,
        disabled: bool | None = None,
    ) -> User:
        """Change what is given; a new password or disabling ends the user's sessions."""

    @abstractmethod
    def add_session(self, token_sha256: str, user_name: str, csrf_token: str) -> ConsoleSession:
        ...

    @abstractmethod
    def touch_session(
        self, token_sha256: str, *, idle_seconds: float, max_seconds: float
    ) -> ConsoleSession | None:
        """The live session with this token hash, its idle clock restarted; None (and the
        stale sessions removed) when it does not exist, sat idle or lived too long."""

    @abstractmethod
    def end_session(self, token_sha256: str) -> None: ...
