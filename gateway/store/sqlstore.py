"""What the SQLite and the PostgreSQL message stores do alike, written once.

Here, once: the wording of the audit events, duplicate detection, fencing by lease token, the
row → model mapping and the errors callers see (:class:`NotFound`, :class:`LeaseLost`,
:class:`StoreError`). What an operator may retry, release or replay is in ``actions_sql.py``.

A back end (sqlite.py, postgres.py) brings two :class:`Connection` s (of its own connection
class, which SQLStore is generic over, so a hook may use what only that class offers), its
``sql/<backend>/queries.sql`` (the same statement names in both files), its payload storage and
the four hooks below, where the databases really differ: keeping a received file, the enqueue
transaction, the claim, and ending a lease. The *intake* connection carries receiving, routing,
operator actions and reads; the *queue* connection the workers' claim, heartbeat, ack and fail
and the poll leases, with a cheaper commit (each back end says why that is safe).

Every writing statement is given ``now`` (Unix seconds): SQLite's statements take their time
from it; PostgreSQL's use the database clock (``now()``, so daemons on several hosts agree on
leases) and ignore it.
"""

from __future__ import annotations

import io
import json
import secrets
import time
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, Generic, TypeVar

from gateway.errors import StoreError
from gateway.store.alerts import AlertStore
from gateway.store.base import DocumentRequest, LeaseLost, MessageStore, NotFound
from gateway.store.connection import Connection, Transaction, returned_row
from gateway.store.control_numbers import StoreControlNumbers
from gateway.store.models import (
    WITH_REASON,
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
    Row,
    delivery_from_row,
    depth_from_row,
    document_from_row,
    event_from_row,
    file_from_row,
)
from gateway.store.payment_keys import PaymentKeys
from gateway.store.sqlfiles import latest, queries

Params = dict[str, Any]
_Model = TypeVar("_Model")
_Connection = TypeVar("_Connection", bound=Connection)


class SQLStore(MessageStore, Generic[_Connection]):
    """The message store's logic over a SQL back end's connections and named statements."""

    def __init__(self, intake: _Connection, queue: _Connection, sql: Mapping[str, str],
                 alert_sql: Mapping[str, str]) -> None:
        self._intake = intake
        self._queue = queue
        self._sql = sql
        self.alerts = AlertStore(intake, alert_sql, self._log)
        self.payments = PaymentKeys(intake, sql)

    def migrate(self) -> int:
        return self._intake.migrate()

    def upgrade(self) -> tuple[int, int]:
        return self._intake.upgrade()

    def schema_version(self) -> int:
        return self._intake.schema_version()

    def upgraded(self) -> list[int]:
        return self._intake.upgraded

    def latest_schema(self) -> int:
        return latest(self.backend)

    def control_numbers(self) -> StoreControlNumbers:
        return StoreControlNumbers(self._intake, queries(self.backend, "control"))

    def close(self) -> None:
        self._intake.close()
        self._queue.close()

    # -- the hooks: where the back ends differ -----------------------------------------------

    @abstractmethod
    def _receive(self, payload_path: Path, params: Params, actor: str) -> Row:
        """Keep the file's bytes, check them (:meth:`_check_kept`) and record the file
        (:meth:`_record_file`), each durable before the next step relies on it."""

    @abstractmethod
    def _insert_deliveries(self, params: Sequence[Params]) -> list[Row]:
        """In one transaction, insert each delivery (or find the one with its idempotency key)
        and log each new one's event (``action``, ``actor``, ``reason``). :class:`NotFound`
        when a document does not exist, and nothing is recorded."""

    @abstractmethod
    def _lease_next(self, params: Params) -> Row | None:
        """Lease the next due delivery to ``worker`` with ``token`` for ``lease`` seconds and
        count an attempt; log ``reclaimed`` when that takes over an expired lease. The leased
        row, or None when nothing is due."""

    @abstractmethod
    def _end_lease(self, name: str, params: Params) -> Row | None:
        """Run the fenced statement ``name`` (``ack`` or ``fail``) and, in the same
        transaction, its event: the new state, by the lease's worker, ``attempt N: `` and
        ``reason``. None when ``token`` no longer holds the lease (nothing changed)."""

    # -- receive -----------------------------------------------------------------------------

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
        params = {
            "partner": partner,
            "remote_path": remote_path,
            "original_name": original_name,
            "size": size,
            "mtime": mtime,
            "sha256": sha256,
        }
        return Receipt(file_from_row(self._receive(Path(payload_path), params, actor)))

    def _check_kept(self, kept: tuple[str, int], params: Params) -> None:
        """The bytes kept must be the ones the Source fetched: otherwise the caller records
        nothing, and the partner's copy stays for the next poll."""
        if kept != (params["sha256"], params["size"]):
            raise StoreError(
                f"the fetched file is {kept[1]} bytes with SHA-256 {kept[0]}, not "
                f"{params['size']} bytes with {params['sha256']} as reported",
                where=f"{params['partner']}:{params['remote_path']}",
                fix="fetch the file again; nothing was recorded",
            )

    def _record_file(self, db: Transaction, params: Params, actor: str) -> Row:
        """The idempotent receiver: the first copy of these bytes from this partner is
        recorded ``received``; a later one ``duplicate`` of it (the unique index on first
        copies decides, so two receivers racing cannot both win)."""
        params = {**params, "now": time.time()}
        row = db.execute(self._sql["insert_file"], params).fetchone()
        if row is None:
            found = db.execute(self._sql["insert_duplicate"], params)
            row = returned_row(found, "insert_duplicate")
            reason = f"same SHA-256 as file {row['duplicate_of']}; not processed again"
        else:
            reason = f"sha256 {params['sha256']}"
        self._log(db, "file", row["id"], row["status"], actor, reason)
        return row

    def record_generated(self, *, source: str, name: str, data: bytes,
                         actor: str) -> ReceivedFile:
        sha256 = self.put_payload(io.BytesIO(data))  # durable before the row names it
        params = {"partner": source, "remote_path": name, "original_name": name,
                  "size": len(data), "sha256": sha256, "now": time.time()}
        with self._intake.transaction() as db:
            row = db.execute(self._sql["insert_generated_file"], params).fetchone()
            if row is None:
                first = db.execute(self._sql["first_copy"], params)
                return file_from_row(returned_row(first, "first_copy"))
            self._log(db, "file", row["id"], "generated", actor, f"{name} sha256 {sha256}")
        return file_from_row(row)

    def get_file(self, file_id: int) -> ReceivedFile:
        return file_from_row(self._get("file", file_id))

    def list_files(
        self, *, status: FileStatus | None = None, partner: str | None = None, limit: int = 100
    ) -> list[ReceivedFile]:
        params = {"status": status and status.value, "partner": partner, "limit": limit}
        return self._read("list_files", params, file_from_row)

    def files_from_path(self, partner: str, remote_path: str) -> list[ReceivedFile]:
        params = {"partner": partner, "remote_path": remote_path}
        return self._read("files_from_path", params, file_from_row)

    def set_file_status(
        self, file_id: int, status: FileStatus, *, actor: str, reason: str = ""
    ) -> ReceivedFile:
        error = reason if status in WITH_REASON else None
        params = {"id": file_id, "status": status.value, "error": error}
        with self._intake.transaction() as db:
            row = db.execute(self._sql["set_file_status"], params).fetchone()
            if row is None:
                raise NotFound("file", file_id)
            self._log(db, "file", file_id, status.value, actor, reason)
        return file_from_row(row)

    # -- documents ---------------------------------------------------------------------------

    def add_documents(self, file_id: int, documents: Sequence[DocumentRequest]) -> list[Document]:
        if not documents:
            return []
        now = time.time()
        params = [{**asdict(document), "file_id": file_id, "now": now,
                   "routing_keys": {k: str(v) for k, v in document.routing_keys.items()}}
                  for document in documents]
        with self._intake.transaction() as db:
            rows = self._insert_documents(db, file_id, params)
        return [document_from_row(row) for row in rows]

    def _insert_documents(self, db: Transaction, file_id: int,
                          documents: Sequence[Params]) -> list[Row]:
        """Each document (``routing_keys`` a dict) and its keys, in ``db``'s transaction; for
        one recorded before (a re-run over the same file) the first row, which stands. One
        statement at a time: SQLite runs in process; PostgreSQL overrides it with one."""
        rows = []
        for document in documents:
            keys = document["routing_keys"]
            params = {**document, "routing_keys": json.dumps(keys, sort_keys=True)}
            row = db.execute(self._sql["insert_document"], params).fetchone()
            if row is None:
                found = db.execute(self._sql["document_by_ordinal"], params)
                rows.append(returned_row(found, "document_by_ordinal"))
                continue
            for key, value in keys.items():
                key_params = {"document_id": row["id"], "key": key, "value": value}
                db.execute(self._sql["insert_document_key"], key_params)
            rows.append(row)
        return rows

    def get_document(self, document_id: int) -> Document:
        return document_from_row(self._get("document", document_id))

    def documents_of_file(self, file_id: int) -> list[Document]:
        return self._read("documents_of_file", {"file_id": file_id}, document_from_row)

    def documents_with_key(self, value: str, limit: int = 100) -> list[Document]:
        params = {"value": value, "limit": limit}
        return self._read("documents_with_key", params, document_from_row)

    # -- the delivery queue ------------------------------------------------------------------

    def enqueue_many(
        self, requests: Sequence[DeliveryRequest], *, actor: str = "router"
    ) -> list[Delivery]:
        now = time.time()
        rows = self._insert_deliveries([_delivery_params(r, actor, now) for r in requests])
        return [delivery_from_row(row) for row in rows]

    def get_delivery(self, delivery_id: int) -> Delivery:
        return delivery_from_row(self._get("delivery", delivery_id))

    def list_deliveries(
        self,
        *,
        state: DeliveryState | None = None,
        destination: str | None = None,
        limit: int = 100,
    ) -> list[Delivery]:
        params = {"state": state and state.value, "destination": destination, "limit": limit}
        return self._read("list_deliveries", params, delivery_from_row)

    def deliveries_of_file(self, file_id: int) -> list[Delivery]:
        return self._read("deliveries_of_file", {"file_id": file_id}, delivery_from_row)

    def queue_depth(self) -> list[QueueDepth]:
        return self._read("queue_depth", {}, depth_from_row)

    def claim(self, worker: str, lease_seconds: float) -> Claim | None:
        token = secrets.token_hex(16)
        params = {"token": token, "worker": worker, "lease": float(lease_seconds)}
        row = self._lease_next({**params, "now": time.time()})
        if row is None:
            return None
        delivery = delivery_from_row(row)
        return Claim(delivery, token, delivery.due_at)  # type: ignore[arg-type]

    def heartbeat(self, delivery_id: int, token: str, lease_seconds: float) -> None:
        params = {"id": delivery_id, "token": token, "lease": float(lease_seconds)}
        if self._queue.write_one(self._sql["heartbeat"], {**params, "now": time.time()}) is None:
            raise LeaseLost(delivery_id)

    def ack(self, delivery_id: int, token: str, *, output_sha256: str, location: str) -> Delivery:
        params = {
            "id": delivery_id,
            "token": token,
            "output_sha256": output_sha256,
            "location": location,
            "reason": f"{location} sha256 {output_sha256}",
            "now": time.time(),
        }
        return self._fenced("ack", params)

    def fail(self, delivery_id: int, token: str, *, error: str, retry_in: float | None) -> Delivery:
        dead = retry_in is None
        outcome = "dead" if dead else f"retry in {retry_in:.0f} s"
        params = {
            "id": delivery_id,
            "token": token,
            "error": error,
            "state": (DeliveryState.DEAD if dead else DeliveryState.FAILED).value,
            "retry_in": retry_in,
            "reason": f"{error}; {outcome}",
            "now": time.time(),
        }
        return self._fenced("fail", params)

    def _fenced(self, name: str, params: Params) -> Delivery:
        """End the lease if ``params["token"]`` still holds it; a stale worker changes
        nothing and learns so (:class:`LeaseLost`)."""
        row = self._end_lease(name, params)
        if row is None:
            raise LeaseLost(params["id"])
        return delivery_from_row(row)

    # -- audit -------------------------------------------------------------------------------

    def record_event(
        self, entity_type: str, entity_id: int | str, action: str, *, actor: str, reason: str = ""
    ) -> Event:
        with self._intake.transaction() as db:
            return event_from_row(self._log(db, entity_type, entity_id, action, actor, reason))

    def events(self, entity_type: str, entity_id: int | str) -> list[Event]:
        params = {"entity_type": entity_type, "entity_id": str(entity_id)}
        return self._read("events", params, event_from_row)

    def _log(
        self, db: Transaction, entity: str, entity_id: object, action: str, actor: str, reason: str
    ) -> Row:
        """Append an event inside the caller's transaction, so the state change and its
        record commit together or not at all."""
        params = {
            "now": time.time(),
            "actor": actor,
            "entity_type": entity,
            "entity_id": str(entity_id),
            "action": action,
            "reason": reason.rstrip("; "),  # an empty operator reason leaves no dangling ";"
        }
        return returned_row(db.execute(self._sql["insert_event"], params), "insert_event")

    # -- poll leases -------------------------------------------------------------------------

    def acquire_poll_lease(self, partner: str, holder: str, seconds: float) -> bool:
        return self._poll_lease("acquire_poll_lease", partner, holder, seconds)

    def renew_poll_lease(self, partner: str, holder: str, seconds: float) -> bool:
        return self._poll_lease("renew_poll_lease", partner, holder, seconds)

    def release_poll_lease(self, partner: str, holder: str) -> None:
        self._poll_lease("release_poll_lease", partner, holder)

    def _poll_lease(self, name: str, partner: str, holder: str, seconds: float = 0.0) -> bool:
        """True when the statement touched ``holder``'s lease (each returns the holder)."""
        params = {"partner": partner, "holder": holder, "seconds": float(seconds)}
        return self._queue.write_one(self._sql[name], {**params, "now": time.time()}) is not None

    # -- reads -------------------------------------------------------------------------------

    def _get(self, entity: str, entity_id: int) -> Row:
        """The row of ``get_<entity>``, or :class:`NotFound` naming what was asked for."""
        row = self._intake.one(self._sql[f"get_{entity}"], {"id": entity_id})
        if row is None:
            raise NotFound(entity, entity_id)
        return row

    def _read(self, name: str, params: Params, model: Callable[[Row], _Model]) -> list[_Model]:
        """The rows of the read-only statement ``name``, as models."""
        return [model(row) for row in self._intake.all(self._sql[name], params)]


def _delivery_params(request: DeliveryRequest, actor: str, now: float) -> Params:
    """A request as ``insert_delivery``'s parameters, with the event it logs: a held request
    (unknown or inactive member) is recorded held, with the hold reason, and is not due;
    any other is pending and due now."""
    held = bool(request.hold)
    return {
        **asdict(request),
        "idempotency_key": request.key,
        "state": (DeliveryState.HELD if held else DeliveryState.PENDING).value,
        "held": held,
        "actor": actor,
        "action": "held" if held else "enqueued",
        "reason": request.hold if held else f"to {request.destination}",
        "now": now,
    }
