"""The message store interface: one abstract class, two back ends (like procrastinate's Connector).

``sqlite.py`` is the embedded default (one daemon); ``postgres.py`` serves several daemons at
once. Both pass the same test suite. What they do alike is written once in ``sqlstore.py``;
the SQL lives in ``sql/<backend>/`` (numbered migrations and a ``queries.sql`` of named
statements), so this module only says *what* each operation promises:

- **Receive** (idempotent receiver): a file's raw bytes are kept unchanged and durably, and
  its row committed, before the partner's copy is removed (PostgreSQL: one transaction;
  SQLite: payload file fsynced first, then the row). The same SHA-256 again from the same
  partner is recorded as a duplicate and not processed again.
- **Deliver** (guaranteed delivery): a delivery is claimed with a lease whose token fences
  every later heartbeat, ack and failure. A stale token changes nothing and raises
  :class:`LeaseLost`. A worker that dies simply lets its lease expire; the next claim redoes
  the work.
- **Audit**: every state change appends an :class:`Event` in the same transaction.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Self

from gateway.errors import StoreError
from gateway.store.alerts import AlertStore
from gateway.store.crypt.envelopes import PayloadSealer
from gateway.store.exclusive import NoLock, StoreLock
from gateway.store.models import (
    Claim,
    Delivery,
    DeliveryRequest,
    DeliveryState,
    Document,
    Event,
    FileStatus,
    QueueDepth,
    Receipt,
    ReceivedFile,
)
from gateway.store.operator import OperatorStore
from gateway.store.payment_keys import PaymentKeys
from gateway.x12.split.writers import PayloadStore
from gateway.x12.write.control_numbers import ControlNumbers


@dataclass(frozen=True)
class DocumentRequest:
    """A document to record (``MessageStore.add_documents``): a :class:`Document` without
    the ids the store gives it."""

    ordinal: int
    kind: str
    routing_keys: Mapping[str, str]
    source_start: int | None = None
    source_end: int | None = None
    payload_sha256: str | None = None


class LeaseLost(StoreError):
    """A heartbeat, ack or failure came with a token that no longer holds the lease.

    Nothing was changed: another worker has (or will) redo the delivery, and the deterministic
    output name makes that redo overwrite rather than duplicate.
    """

    def __init__(self, delivery_id: int) -> None:
        self.delivery_id = delivery_id
        super().__init__(
            "the lease on this delivery expired or was taken over; nothing was changed",
            where=f"delivery {delivery_id}",
            fix="none needed; if this is frequent, lengthen the lease or the heartbeat rate",
        )


class NotFound(StoreError):
    """An id that the store does not hold."""

    def __init__(self, entity: str, entity_id: object) -> None:
        super().__init__(
            f"there is no {entity} {entity_id}",
            fix=_HINTS.get(entity, _HINTS["delivery"]),
        )


_HINTS = {  # where the operator finds the right id
    "delivery": "check the id (e.g. with `gateway deliveries list` or `gateway trace`)",
    "file": "check the id (e.g. with `gateway files list` or `gateway trace`)",
    "user": "check the account name (`gateway users list`)",
}


class MessageStore(OperatorStore):
    """Received files, their documents, the delivery queue and the audit trail.

    What operators search and change, and the console's accounts, are declared in
    :class:`OperatorStore` (gateway/store/operator.py)."""

    alerts: AlertStore  # the alerts' conditions and notices (gateway/store/alerts.py)
    backend: str  # "sqlite" or "postgres": which sql/<backend>/ files apply
    payments: PaymentKeys  # who first carried each payment key (gateway/store/payment_keys.py)
    sealer: PayloadSealer  # payload encryption at rest and key rotation (gateway/store/crypt/)

    # -- lifecycle ---------------------------------------------------------------------------

    @abstractmethod
    def migrate(self) -> int:
        """Apply every migration not applied yet; return the schema version now in force."""

    @abstractmethod
    def upgrade(self) -> tuple[int, int]:
        """Like :meth:`migrate`; the versions before and after, read under the migration
        lock (of concurrent runs, only the one that changed something sees a difference)."""

    @abstractmethod
    def schema_version(self) -> int:
        """The schema version in force (0: never migrated), changing nothing."""

    @abstractmethod
    def upgraded(self) -> list[int]:
        """The versions the last :meth:`upgrade` applied, read under its lock (a hole below
        the highest version, filled, shows here; a concurrent run's work does not)."""

    @abstractmethod
    def latest_schema(self) -> int:
        """The schema version this gateway's migrations lead to."""

    @abstractmethod
    def control_numbers(self) -> ControlNumbers:
        """Interchange control numbers kept in this store (shared by every daemon on it)."""

    @abstractmethod
    def exclusive(self, purpose: str) -> StoreLock | NoLock:
        """Take the store for one daemon where it can serve only one (SQLite); ConfigError
        naming the holder when another has it. PostgreSQL: nothing to take."""

    @abstractmethod
    def close(self) -> None: ...

    def deferred_commits(self) -> AbstractContextManager[None]:
        """Within it, this thread's commits need not wait for their own flush to disk: for a
        stage redone from scratch after a crash (the route), whose last commit is synchronous
        and so flushes every one before it. Nothing else changes (default: nothing at all)."""
        return nullcontext()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- payloads (raw and rendered bytes, content-addressed by SHA-256) ---------------------

    @abstractmethod
    def put_payload(self, data: BinaryIO) -> str:
        """Keep bytes durably; return their SHA-256 (the key to read them back)."""

    def payload_batch(self) -> AbstractContextManager[PayloadStore]:
        """``put_payload`` for many payloads at once (a split's parts): each put returns its
        key at once, and the bytes are durable when the block ends — name none of them
        before then. PostgreSQL writes them several to a transaction; a store whose puts cost
        no round trip (SQLite's files) puts each at once."""
        return nullcontext(self)

    @abstractmethod
    def open_payload(self, sha256: str) -> AbstractContextManager[BinaryIO]:
        """Read kept bytes back: ``with store.open_payload(sha) as f: ...``."""

    # -- receive -----------------------------------------------------------------------------

    @abstractmethod
    def record_received(
        self,
        *,
        partner: str,
        remote_path: str,
        original_name: str,
        size: int,
        mtime: float | None,
        sha256: str,
        payload_path: Path,
        actor: str = "receiver",
    ) -> Receipt:
        """Keep the fetched file's bytes and record it durably (synchronous commit).

        Only after this returns may the Source acknowledge (archive or delete) the partner's
        copy. The bytes are re-hashed while being kept; a mismatch with ``sha256``/``size``
        raises :class:`StoreError` and records nothing.
        """

    @abstractmethod
    def record_generated(self, *, source: str, name: str, data: bytes,
                         actor: str) -> ReceivedFile:
        """Keep a document the gateway made itself (a reconciliation report, say) so that it
        can be delivered like any other: a file row from ``source`` (e.g.
        ``gateway:reconcile``), already ``routed`` (nothing parses it), whose payload is
        ``data``. The same bytes again return the first row."""

    @abstractmethod
    def get_file(self, file_id: int) -> ReceivedFile: ...

    @abstractmethod
    def list_files(
        self, *, status: FileStatus | None = None, partner: str | None = None, limit: int = 100
    ) -> list[ReceivedFile]:
        """Newest first."""

    @abstractmethod
    def files_from_path(self, partner: str, remote_path: str) -> list[ReceivedFile]:
        """The latest few files received from this path of the partner, newest first (the
        receiver's way to know a file it recorded but could not archive at the partner)."""

    @abstractmethod
    def set_file_status(
        self, file_id: int, status: FileStatus, *, actor: str, reason: str = ""
    ) -> ReceivedFile:
        """Move a file on (parsed, routed) or quarantine it (``reason`` becomes its error)."""

    # -- documents ---------------------------------------------------------------------------

    def add_document(
        self,
        file_id: int,
        ordinal: int,
        *,
        kind: str,
        routing_keys: Mapping[str, str],
        source_start: int | None = None,
        source_end: int | None = None,
        payload_sha256: str | None = None,
    ) -> Document:
        """Record the ``ordinal``-th document of a file; recording it again returns the first."""
        request = DocumentRequest(ordinal, kind, routing_keys, source_start, source_end,
                                  payload_sha256)
        return self.add_documents(file_id, [request])[0]

    @abstractmethod
    def add_documents(self, file_id: int, documents: Sequence[DocumentRequest]) -> list[Document]:
        """Record several documents of a file in one transaction, as :meth:`add_document`
        would one by one (the route's thousand parts: one round trip, not a thousand)."""

    @abstractmethod
    def get_document(self, document_id: int) -> Document: ...

    @abstractmethod
    def documents_of_file(self, file_id: int) -> list[Document]: ...

    @abstractmethod
    def documents_with_key(self, value: str, limit: int = 100) -> list[Document]:
        """Documents with a routing key of this value (a pharmacy's NPI, NCPDP id or TIN)."""

    # -- the delivery queue ------------------------------------------------------------------

    @abstractmethod
    def enqueue_many(
        self, requests: Sequence[DeliveryRequest], *, actor: str = "router"
    ) -> list[Delivery]:
        """Create every requested delivery in one transaction (all of a file's, typically).

        A request whose idempotency key exists already returns the existing delivery, so the
        router may run twice over the same file. Held requests are recorded held, with an event.
        """

    def enqueue(
        self,
        document_id: int,
        *,
        destination: str,
        format: str,
        output_name: str,
        idempotency_key: str | None = None,
        payload_sha256: str | None = None,
        hold: str | None = None,
        actor: str = "router",
    ) -> Delivery:
        """One delivery: see :class:`DeliveryRequest` for the fields."""
        request = DeliveryRequest(
            document_id, destination, format, output_name, idempotency_key, payload_sha256, hold
        )
        return self.enqueue_many([request], actor=actor)[0]

    @abstractmethod
    def get_delivery(self, delivery_id: int) -> Delivery: ...

    @abstractmethod
    def list_deliveries(
        self,
        *,
        state: DeliveryState | None = None,
        destination: str | None = None,
        limit: int = 100,
    ) -> list[Delivery]:
        """Oldest first (by id)."""

    @abstractmethod
    def deliveries_of_file(self, file_id: int) -> list[Delivery]:
        """Every delivery of every document of a file (for trace and replay)."""

    @abstractmethod
    def queue_depth(self) -> list[QueueDepth]:
        """Counts per (state, destination) with the oldest enqueue time."""

    @abstractmethod
    def claim(self, worker: str, lease_seconds: float) -> Claim | None:
        """Take the next due delivery (pending or failed and due, or leased with an expired
        lease) with a fresh lease token; None when nothing is due. Counts an attempt.

        A routine claim logs no event of its own: the outcome's event (delivered, failed,
        dead) names the worker and the attempt. Taking over an *expired* lease does log one
        (``reclaimed``), so an attempt whose worker died is never invisible. (One event fewer
        per delivery is a third more throughput on SQLite.)"""

    @abstractmethod
    def heartbeat(self, delivery_id: int, token: str, lease_seconds: float) -> None:
        """Extend a held lease to now + ``lease_seconds``; :class:`LeaseLost` if not held."""

    @abstractmethod
    def ack(self, delivery_id: int, token: str, *, output_sha256: str, location: str) -> Delivery:
        """Mark delivered (fenced by the token); :class:`LeaseLost` if the lease is gone."""

    @abstractmethod
    def fail(self, delivery_id: int, token: str, *, error: str, retry_in: float | None) -> Delivery:
        """Record a failed attempt: retry in ``retry_in`` seconds, or dead when None.
        Fenced by the token like :meth:`ack`."""

    # -- operators ---------------------------------------------------------------------------

    @abstractmethod
    def retry(
        self, delivery_id: int, *, actor: str, reason: str = "", to: str | None = None
    ) -> Delivery:
        """Put a dead or failed delivery back to pending now, with a fresh attempt count
        (and to the destination ``to``: its member's corrected one)."""

    @abstractmethod
    def retry_all_dead(
        self,
        *,
        destination: str | None = None,
        actor: str,
        reason: str = "",
        redirects: Mapping[int, str] | None = None,
    ) -> int:
        """:meth:`retry` every dead delivery (of one destination); return how many.
        ``redirects`` maps delivery ids to corrected destinations."""

    @abstractmethod
    def release(
        self, delivery_id: int, *, destination: str | None = None, actor: str, reason: str = ""
    ) -> Delivery:
        """Release a held delivery to pending, optionally to a corrected destination."""

    @abstractmethod
    def replay_file(
        self,
        file_id: int,
        *,
        actor: str,
        reason: str = "",
        redirects: Mapping[int, str] | None = None,
    ) -> int:
        """Re-queue every delivery of a file's documents (delivered, failed or dead alike;
        leased ones are in flight and held ones wait for release). Return how many.
        ``redirects`` maps delivery ids to corrected destinations."""

    # -- audit -------------------------------------------------------------------------------

    @abstractmethod
    def record_event(
        self, entity_type: str, entity_id: int | str, action: str, *, actor: str, reason: str = ""
    ) -> Event:
        """Append an event that is not a state change made here (an alert, a parse finding)."""

    @abstractmethod
    def events(self, entity_type: str, entity_id: int | str) -> list[Event]:
        """The events of one entity, oldest first."""

    # -- poll leases (only one daemon polls a partner at a time) -----------------------------

    @abstractmethod
    def acquire_poll_lease(self, partner: str, holder: str, seconds: float) -> bool:
        """Take (or renew, for the same holder) the partner's poll lease unless another
        holder's lease is still running. True when ``holder`` now holds it."""

    @abstractmethod
    def renew_poll_lease(self, partner: str, holder: str, seconds: float) -> bool:
        """Extend ``holder``'s lease; False when it is no longer held (stop polling)."""

    @abstractmethod
    def release_poll_lease(self, partner: str, holder: str) -> None:
        """Give the lease up (only if ``holder`` holds it), so another daemon may poll now."""

