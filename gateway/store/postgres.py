"""The shared message store: PostgreSQL, for a PSAO that runs several daemons at once.

Following shared/reference/transport-and-queue.md:

- Claims are one short autocommit statement with ``FOR UPDATE SKIP LOCKED``: two workers never
  take the same row and never wait for each other. The lease (token + ``due_at``) — not an
  open transaction — is what holds a delivery during a transfer that may take minutes.
- Transactions are short and few: the queue statements (claim, heartbeat, ack, fail) each log
  their event in the same statement.
- Two connections, as in the SQLite store. The *intake* connection (receiving, routing,
  operators) commits synchronously; the *queue* connection runs ``synchronous_commit=off``
  (a commit lost to a server crash only makes a delivery happen again, under the same name).
- Payloads live in the database (1 MiB bytea chunks), committed in the same transaction as the
  file row: every daemon reads them without a shared file system, and backups cover them.

Times come from the database clock (``now()``), so daemons on several hosts agree on leases.
A broken connection (server restart) is reopened on the next call.
"""

from __future__ import annotations

import hashlib
import secrets
import tempfile
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict
from pathlib import Path
from typing import Any, BinaryIO

import psycopg
from psycopg.types.json import Jsonb

from gateway.errors import StoreError
from gateway.store.base import LeaseLost, MessageStore, NotFound
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
    delivery_from_row,
    depth_from_row,
    document_from_row,
    event_from_row,
    file_from_row,
)
from gateway.store.payloads import check_sha256, copy_hashing
from gateway.store.postgres_connection import PostgresConnection, Row, describe_url, migrate
from gateway.store.sqlfiles import queries

CHUNK = 1 << 20
_SPOOL = 8 << 20
_Q = queries("postgres")


def _event(
    db: psycopg.Connection[Row],
    entity_type: str,
    entity_id: int | str,
    action: str,
    actor: str,
    reason: str = "",
) -> Row:
    params = {
        "actor": actor,
        "entity_type": entity_type,
        "entity_id": str(entity_id),
        "action": action,
        "reason": reason.rstrip("; "),  # an empty operator reason leaves no dangling ";"
    }
    return db.execute(_Q["insert_event"], params).fetchone()  # type: ignore[return-value]


def _hashed(data: BinaryIO, spool: BinaryIO) -> tuple[BinaryIO, str, int]:
    """The stream to store from, its SHA-256 and size. The payloads row (keyed by hash) comes
    before its chunks, so the hash is needed first: a seekable file is read twice, anything
    else is spooled."""
    if data.seekable():
        start = data.tell()
        digest, size = hashlib.sha256(), 0
        while chunk := data.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
        data.seek(start)
        return data, digest.hexdigest(), size
    sha256, size = copy_hashing(data, spool)
    spool.seek(0)
    return spool, sha256, size


class PostgresStore(MessageStore):
    """The message store on a PostgreSQL database shared by every daemon."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._intake = PostgresConnection(url, synchronous_commit=True)
        self._queue = PostgresConnection(url, synchronous_commit=False)

    def __repr__(self) -> str:
        return f"PostgresStore({describe_url(self.url)!r})"

    # -- lifecycle ---------------------------------------------------------------------------

    def migrate(self) -> int:
        return migrate(self._intake)

    def close(self) -> None:
        self._intake.close()
        self._queue.close()

    # -- payloads ----------------------------------------------------------------------------

    def _put(self, db: psycopg.Connection[Row], data: BinaryIO) -> tuple[str, int]:
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL) as spool:
            source, sha256, size = _hashed(data, spool)  # type: ignore[arg-type]
            if db.execute(_Q["insert_payload"], {"sha256": sha256, "size": size}).fetchone():
                seq = 0
                while chunk := source.read(CHUNK):
                    params = {"sha256": sha256, "seq": seq, "data": chunk}
                    db.execute(_Q["insert_payload_chunk"], params)
                    seq += 1
        return sha256, size

    def put_payload(self, data: BinaryIO) -> str:
        with self._intake.transaction() as db:
            return self._put(db, data)[0]

    def open_payload(self, sha256: str) -> AbstractContextManager[BinaryIO]:
        """The payload spooled to memory (up to 8 MiB) or a temp file, read chunk by chunk."""
        params: dict[str, Any] = {"sha256": check_sha256(sha256)}
        found = self._intake.one(_Q["payload_size"], params)
        if found is None:
            raise StoreError(f"payload {sha256} is not in the store", where=repr(self))
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL)  # noqa: SIM115 (returned open)
        seq = 0
        while spool.tell() < found["size"]:
            row = self._intake.one(_Q["payload_chunk"], {**params, "seq": seq})
            if row is None:
                spool.close()
                raise StoreError(f"payload {sha256} is missing chunk {seq}", where=repr(self))
            spool.write(row["data"])
            seq += 1
        spool.seek(0)
        return spool  # type: ignore[return-value]

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
        with Path(payload_path).open("rb") as data, self._intake.transaction() as db:
            kept = self._put(db, data)
            if kept != (sha256, size):
                raise StoreError(
                    f"the fetched file is {kept[1]} bytes with SHA-256 {kept[0]}, not {size} "
                    f"bytes with {sha256} as reported",
                    where=f"{partner}:{remote_path}",
                    fix="fetch the file again; nothing was recorded",
                )
            row = db.execute(_Q["insert_file"], params).fetchone()
            if row is None:
                row = db.execute(_Q["insert_duplicate"], params).fetchone()
                assert row is not None, "a conflicting first copy exists"
                reason = f"same SHA-256 as file {row['duplicate_of']}; not processed again"
            else:
                reason = f"sha256 {sha256}"
            _event(db, "file", row["id"], row["status"], actor, reason)
        return Receipt(file_from_row(row))

    def get_file(self, file_id: int) -> ReceivedFile:
        row = self._intake.one(_Q["get_file"], {"id": file_id})
        if row is None:
            raise NotFound("file", file_id)
        return file_from_row(row)

    def list_files(
        self, *, status: FileStatus | None = None, partner: str | None = None, limit: int = 100
    ) -> list[ReceivedFile]:
        params = {"status": status and status.value, "partner": partner, "limit": limit}
        return [file_from_row(row) for row in self._intake.all(_Q["list_files"], params)]

    def set_file_status(
        self, file_id: int, status: FileStatus, *, actor: str, reason: str = ""
    ) -> ReceivedFile:
        error = reason if status is FileStatus.QUARANTINED else None
        params = {"id": file_id, "status": status.value, "error": error}
        with self._intake.transaction() as db:
            row = db.execute(_Q["set_file_status"], params).fetchone()
            if row is None:
                raise NotFound("file", file_id)
            _event(db, "file", file_id, status.value, actor, reason)
        return file_from_row(row)

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
        keys = {key: str(value) for key, value in routing_keys.items()}
        params = {
            "file_id": file_id,
            "ordinal": ordinal,
            "kind": kind,
            "routing_keys": Jsonb(keys),
            "source_start": source_start,
            "source_end": source_end,
            "payload_sha256": payload_sha256,
        }
        with self._intake.transaction() as db:
            row = db.execute(_Q["insert_document"], params).fetchone()
            if row is None:
                row = db.execute(_Q["document_by_ordinal"], params).fetchone()
                return document_from_row(row)  # type: ignore[arg-type]
            for key, value in keys.items():
                db.execute(
                    _Q["insert_document_key"],
                    {"document_id": row["id"], "key": key, "value": value},
                )
        return document_from_row(row)

    def get_document(self, document_id: int) -> Document:
        row = self._intake.one(_Q["get_document"], {"id": document_id})
        if row is None:
            raise NotFound("document", document_id)
        return document_from_row(row)

    def documents_of_file(self, file_id: int) -> list[Document]:
        rows = self._intake.all(_Q["documents_of_file"], {"file_id": file_id})
        return [document_from_row(row) for row in rows]

    def documents_with_key(self, value: str, limit: int = 100) -> list[Document]:
        rows = self._intake.all(_Q["documents_with_key"], {"value": value, "limit": limit})
        return [document_from_row(row) for row in rows]

    # -- the delivery queue ------------------------------------------------------------------

    def enqueue_many(
        self, requests: Sequence[DeliveryRequest], *, actor: str = "router"
    ) -> list[Delivery]:
        created = []
        # One request is one statement (delivery + event), atomic without a transaction.
        scope = self._intake.transaction() if len(requests) > 1 else self._intake.session()
        try:
            with scope as db:
                for request in requests:
                    params = {
                        **asdict(request),
                        "idempotency_key": request.key,
                        "state": (
                            DeliveryState.HELD if request.hold else DeliveryState.PENDING
                        ).value,
                        "held": request.hold is not None,
                        "actor": actor,
                    }
                    row = db.execute(_Q["insert_delivery"], params).fetchone()
                    if row is None:
                        row = db.execute(_Q["delivery_by_key"], params).fetchone()
                    created.append(delivery_from_row(row))  # type: ignore[arg-type]
        except psycopg.errors.ForeignKeyViolation:
            ids = ", ".join(sorted({str(r.document_id) for r in requests}))
            raise NotFound("document", ids) from None
        return created

    def get_delivery(self, delivery_id: int) -> Delivery:
        row = self._intake.one(_Q["get_delivery"], {"id": delivery_id})
        if row is None:
            raise NotFound("delivery", delivery_id)
        return delivery_from_row(row)

    def list_deliveries(
        self,
        *,
        state: DeliveryState | None = None,
        destination: str | None = None,
        limit: int = 100,
    ) -> list[Delivery]:
        params = {"state": state and state.value, "destination": destination, "limit": limit}
        return [delivery_from_row(row) for row in self._intake.all(_Q["list_deliveries"], params)]

    def deliveries_of_file(self, file_id: int) -> list[Delivery]:
        rows = self._intake.all(_Q["deliveries_of_file"], {"file_id": file_id})
        return [delivery_from_row(row) for row in rows]

    def queue_depth(self) -> list[QueueDepth]:
        return [depth_from_row(row) for row in self._intake.all(_Q["queue_depth"], {})]

    def claim(self, worker: str, lease_seconds: float) -> Claim | None:
        token = secrets.token_hex(16)
        params = {"token": token, "worker": worker, "lease": float(lease_seconds)}
        row = self._queue.one(_Q["claim"], params)
        if row is None:
            return None
        delivery = delivery_from_row(row)
        return Claim(delivery, token, delivery.due_at)  # type: ignore[arg-type]

    def heartbeat(self, delivery_id: int, token: str, lease_seconds: float) -> None:
        params = {"id": delivery_id, "token": token, "lease": float(lease_seconds)}
        with self._queue.session() as db:
            if db.execute(_Q["heartbeat"], params).rowcount == 0:
                raise LeaseLost(delivery_id)

    def ack(self, delivery_id: int, token: str, *, output_sha256: str, location: str) -> Delivery:
        params = {
            "id": delivery_id,
            "token": token,
            "output_sha256": output_sha256,
            "location": location,
        }
        row = self._queue.one(_Q["ack"], params)
        if row is None:
            raise LeaseLost(delivery_id)
        return delivery_from_row(row)

    def fail(self, delivery_id: int, token: str, *, error: str, retry_in: float | None) -> Delivery:
        state = DeliveryState.DEAD if retry_in is None else DeliveryState.FAILED
        outcome = "dead" if retry_in is None else f"retry in {retry_in:.0f} s"
        params = {
            "id": delivery_id,
            "token": token,
            "error": error,
            "state": state.value,
            "retry_in": retry_in,
            "reason": f"{error}; {outcome}",
        }
        row = self._queue.one(_Q["fail"], params)
        if row is None:
            raise LeaseLost(delivery_id)
        return delivery_from_row(row)

    # -- operators ---------------------------------------------------------------------------

    def _requeue(
        self, db: psycopg.Connection[Row], delivery_id: int, action: str, actor: str, reason: str
    ) -> Row:
        row = db.execute(_Q["requeue"], {"id": delivery_id}).fetchone()
        _event(db, "delivery", delivery_id, action, actor, reason)
        return row  # type: ignore[return-value]

    def retry(self, delivery_id: int, *, actor: str, reason: str = "") -> Delivery:
        with self._intake.transaction() as db:
            current = db.execute(_Q["lock_delivery"], {"id": delivery_id}).fetchone()
            if current is None:
                raise NotFound("delivery", delivery_id)
            if current["state"] not in (DeliveryState.DEAD, DeliveryState.FAILED):
                raise StoreError(
                    f"delivery {delivery_id} is {current['state']}, not dead or failed",
                    fix="to send a delivered file again, replay its file (`gateway trace` "
                    "shows the file id)",
                )
            row = self._requeue(db, delivery_id, "retried", actor, reason)
        return delivery_from_row(row)

    def retry_all_dead(
        self, *, destination: str | None = None, actor: str, reason: str = ""
    ) -> int:
        with self._intake.transaction() as db:
            ids = [r["id"] for r in db.execute(_Q["dead_ids"], {"destination": destination})]
            for delivery_id in ids:
                self._requeue(db, delivery_id, "retried", actor, reason)
        return len(ids)

    def release(
        self, delivery_id: int, *, destination: str | None = None, actor: str, reason: str = ""
    ) -> Delivery:
        with self._intake.transaction() as db:
            row = db.execute(_Q["release"], {"id": delivery_id, "destination": destination})
            row = row.fetchone()
            if row is None:
                current = db.execute(_Q["get_delivery"], {"id": delivery_id}).fetchone()
                if current is None:
                    raise NotFound("delivery", delivery_id)
                raise StoreError(f"delivery {delivery_id} is {current['state']}, not held")
            why = f"to {row['destination']}; {reason}"
            _event(db, "delivery", delivery_id, "released", actor, why)
        return delivery_from_row(row)

    def replay_file(self, file_id: int, *, actor: str, reason: str = "") -> int:
        with self._intake.transaction() as db:
            if db.execute(_Q["get_file"], {"id": file_id}).fetchone() is None:
                raise NotFound("file", file_id)
            ids = [r["id"] for r in db.execute(_Q["replayable_ids"], {"file_id": file_id})]
            for delivery_id in ids:
                self._requeue(db, delivery_id, "replayed", actor, f"file {file_id}; {reason}")
            _event(db, "file", file_id, "replayed", actor, f"{len(ids)} deliveries; {reason}")
        return len(ids)

    # -- audit -------------------------------------------------------------------------------

    def record_event(
        self, entity_type: str, entity_id: int | str, action: str, *, actor: str, reason: str = ""
    ) -> Event:
        with self._intake.transaction() as db:
            return event_from_row(_event(db, entity_type, entity_id, action, actor, reason))

    def events(self, entity_type: str, entity_id: int | str) -> list[Event]:
        params = {"entity_type": entity_type, "entity_id": str(entity_id)}
        return [event_from_row(row) for row in self._intake.all(_Q["events"], params)]

    # -- poll leases -------------------------------------------------------------------------

    def acquire_poll_lease(self, partner: str, holder: str, seconds: float) -> bool:
        params = {"partner": partner, "holder": holder, "seconds": float(seconds)}
        return self._queue.one(_Q["acquire_poll_lease"], params) is not None

    def renew_poll_lease(self, partner: str, holder: str, seconds: float) -> bool:
        params = {"partner": partner, "holder": holder, "seconds": float(seconds)}
        return self._queue.one(_Q["renew_poll_lease"], params) is not None

    def release_poll_lease(self, partner: str, holder: str) -> None:
        with self._queue.session() as db:
            db.execute(_Q["release_poll_lease"], {"partner": partner, "holder": holder})
