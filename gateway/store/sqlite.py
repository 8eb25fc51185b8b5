"""The embedded message store: SQLite in WAL mode plus a content-addressed payload directory.

Durability settings follow the measurements in shared/reference/transport-and-queue.md:

- WAL, ``busy_timeout`` 10 s, ``isolation_level=None`` and ``BEGIN IMMEDIATE`` for every
  read-then-write (see sqlite_connection.py).
- Two connections. The *intake* connection (receiving files, routing, operator actions) runs
  ``synchronous=FULL``: its commits are promises to partners and operators and must survive a
  power cut. The *queue* connection (claim, heartbeat, ack, fail) runs ``NORMAL``: a commit
  lost to a power cut only makes a delivery happen again, under the same name. A FULL commit
  also makes every earlier WAL frame durable, so ordering is never violated.

Each connection is guarded by a lock, so one store may be shared by a pool of worker threads.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict
from pathlib import Path
from typing import BinaryIO

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
from gateway.store.payloads import PayloadDirectory
from gateway.store.sqlfiles import queries
from gateway.store.sqlite_connection import SQLiteConnection, migrate

_Q = queries("sqlite")


def _event(
    db: sqlite3.Connection,
    entity_type: str,
    entity_id: int | str,
    action: str,
    actor: str,
    reason: str = "",
) -> sqlite3.Row:
    return db.execute(
        _Q["insert_event"],
        {
            "now": time.time(),
            "actor": actor,
            "entity_type": entity_type,
            "entity_id": str(entity_id),
            "action": action,
            "reason": reason.rstrip("; "),  # an empty operator reason leaves no dangling ";"
        },
    ).fetchone()


class SQLiteStore(MessageStore):
    """One database file (WAL) and a payload directory beside it."""

    def __init__(self, path: Path | str, payload_dir: Path | str | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.payloads = PayloadDirectory(
            Path(payload_dir) if payload_dir else self.path.with_name(self.path.stem + "-payloads")
        )
        self._intake = SQLiteConnection(self.path, "FULL")
        self._queue = SQLiteConnection(self.path, "NORMAL")

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    # -- lifecycle ---------------------------------------------------------------------------

    def migrate(self) -> int:
        return migrate(self._intake)

    def close(self) -> None:
        self._intake.close()
        self._queue.close()

    # -- payloads ----------------------------------------------------------------------------

    def put_payload(self, data: BinaryIO) -> str:
        return self.payloads.put(data)[0]

    def open_payload(self, sha256: str) -> AbstractContextManager[BinaryIO]:
        return self.payloads.open(sha256)

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
        with Path(payload_path).open("rb") as data:
            kept = self.payloads.put(data)
        if kept != (sha256, size):
            raise StoreError(
                f"the fetched file is {kept[1]} bytes with SHA-256 {kept[0]}, not {size} bytes "
                f"with {sha256} as reported",
                where=f"{partner}:{remote_path}",
                fix="fetch the file again; nothing was recorded",
            )
        params = {
            "partner": partner,
            "remote_path": remote_path,
            "original_name": original_name,
            "size": size,
            "mtime": mtime,
            "sha256": sha256,
            "now": time.time(),
        }
        with self._intake.write() as db:
            first = db.execute(_Q["first_copy"], params).fetchone()
            status = FileStatus.DUPLICATE if first else FileStatus.RECEIVED
            row = db.execute(
                _Q["insert_file"],
                {**params, "status": status, "duplicate_of": first["id"] if first else None},
            ).fetchone()
            reason = f"same SHA-256 as file {first['id']}; not processed again" if first else ""
            _event(db, "file", row["id"], status.value, actor, reason or f"sha256 {sha256}")
        return Receipt(file_from_row(row))

    def get_file(self, file_id: int) -> ReceivedFile:
        row = self._intake.one(_Q["get_file"], {"id": file_id})
        if row is None:
            raise NotFound("file", file_id)
        return file_from_row(row)

    def list_files(
        self, *, status: FileStatus | None = None, partner: str | None = None, limit: int = 100
    ) -> list[ReceivedFile]:
        rows = self._intake.all(
            _Q["list_files"], {"status": status, "partner": partner, "limit": limit}
        )
        return [file_from_row(row) for row in rows]

    def set_file_status(
        self, file_id: int, status: FileStatus, *, actor: str, reason: str = ""
    ) -> ReceivedFile:
        error = reason if status is FileStatus.QUARANTINED else None
        with self._intake.write() as db:
            row = db.execute(
                _Q["set_file_status"], {"id": file_id, "status": status, "error": error}
            ).fetchone()
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
        params = {
            "file_id": file_id,
            "ordinal": ordinal,
            "kind": kind,
            "routing_keys": json.dumps(dict(routing_keys), sort_keys=True),
            "source_start": source_start,
            "source_end": source_end,
            "payload_sha256": payload_sha256,
            "now": time.time(),
        }
        with self._intake.write() as db:
            row = db.execute(_Q["insert_document"], params).fetchone()
            if row is None:
                return document_from_row(db.execute(_Q["document_by_ordinal"], params).fetchone())
            for key, value in routing_keys.items():
                db.execute(
                    _Q["insert_document_key"],
                    {"document_id": row["id"], "key": key, "value": str(value)},
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
        now = time.time()
        created = []
        with self._intake.write() as db:
            for request in requests:
                params = {
                    **asdict(request),
                    "idempotency_key": request.key,
                    "state": DeliveryState.HELD if request.hold else DeliveryState.PENDING,
                    "due_at": None if request.hold else now,
                    "now": now,
                }
                try:
                    row = db.execute(_Q["insert_delivery"], params).fetchone()
                except sqlite3.IntegrityError:
                    raise NotFound("document", request.document_id) from None  # all rolled back
                if row is None:
                    row = db.execute(_Q["delivery_by_key"], params).fetchone()
                else:
                    action, reason = (
                        ("held", request.hold)
                        if request.hold
                        else ("enqueued", f"to {request.destination}")
                    )
                    _event(db, "delivery", row["id"], action, actor, reason)
                created.append(delivery_from_row(row))
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
        params = {"state": state, "destination": destination, "limit": limit}
        return [delivery_from_row(row) for row in self._intake.all(_Q["list_deliveries"], params)]

    def deliveries_of_file(self, file_id: int) -> list[Delivery]:
        rows = self._intake.all(_Q["deliveries_of_file"], {"file_id": file_id})
        return [delivery_from_row(row) for row in rows]

    def queue_depth(self) -> list[QueueDepth]:
        return [depth_from_row(row) for row in self._intake.all(_Q["queue_depth"], {})]

    def claim(self, worker: str, lease_seconds: float) -> Claim | None:
        token = secrets.token_hex(16)
        now = time.time()
        with self._queue.write() as db:
            due = db.execute(_Q["next_due"], {"now": now}).fetchone()
            if due is None:
                return None
            row = db.execute(
                _Q["lease"],
                {
                    "id": due["id"],
                    "token": token,
                    "worker": worker,
                    "now": now,
                    "lease": lease_seconds,
                },
            ).fetchone()
            if due["state"] == DeliveryState.LEASED:  # see MessageStore.claim: only a takeover
                reason = f"lease of {due['leased_by']} expired; attempt {row['attempts']}"
                _event(db, "delivery", row["id"], "reclaimed", f"worker:{worker}", reason)
        delivery = delivery_from_row(row)
        return Claim(delivery, token, delivery.due_at)  # type: ignore[arg-type]

    def heartbeat(self, delivery_id: int, token: str, lease_seconds: float) -> None:
        params = {"id": delivery_id, "token": token, "now": time.time(), "lease": lease_seconds}
        with self._queue.write() as db:
            if db.execute(_Q["heartbeat"], params).rowcount == 0:
                raise LeaseLost(delivery_id)

    def ack(self, delivery_id: int, token: str, *, output_sha256: str, location: str) -> Delivery:
        params = {
            "id": delivery_id,
            "token": token,
            "output_sha256": output_sha256,
            "location": location,
            "now": time.time(),
        }
        with self._queue.write() as db:
            row = db.execute(_Q["ack"], params).fetchone()
            if row is None:
                raise LeaseLost(delivery_id)
            reason = f"attempt {row['attempts']}: {location} sha256 {output_sha256}"
            _event(db, "delivery", delivery_id, "delivered", f"worker:{row['leased_by']}", reason)
        return delivery_from_row(row)

    def fail(self, delivery_id: int, token: str, *, error: str, retry_in: float | None) -> Delivery:
        dead = retry_in is None
        params = {
            "id": delivery_id,
            "token": token,
            "error": error,
            "state": DeliveryState.DEAD if dead else DeliveryState.FAILED,
            "due_at": None if dead else time.time() + retry_in,  # type: ignore[operator]
        }
        with self._queue.write() as db:
            row = db.execute(_Q["fail"], params).fetchone()
            if row is None:
                raise LeaseLost(delivery_id)
            outcome = f"retry in {retry_in:.0f} s" if retry_in is not None else "dead"
            _event(
                db,
                "delivery",
                delivery_id,
                params["state"],
                f"worker:{row['leased_by']}",
                f"attempt {row['attempts']}: {error}; {outcome}",
            )
        return delivery_from_row(row)

    # -- operators ---------------------------------------------------------------------------

    def _requeue(
        self, db: sqlite3.Connection, delivery_id: int, action: str, actor: str, reason: str
    ) -> sqlite3.Row:
        row = db.execute(_Q["requeue"], {"id": delivery_id, "now": time.time()}).fetchone()
        _event(db, "delivery", delivery_id, action, actor, reason)
        return row

    def retry(self, delivery_id: int, *, actor: str, reason: str = "") -> Delivery:
        with self._intake.write() as db:
            current = db.execute(_Q["get_delivery"], {"id": delivery_id}).fetchone()
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
        with self._intake.write() as db:
            ids = [r["id"] for r in db.execute(_Q["dead_ids"], {"destination": destination})]
            for delivery_id in ids:
                self._requeue(db, delivery_id, "retried", actor, reason)
        return len(ids)

    def release(
        self, delivery_id: int, *, destination: str | None = None, actor: str, reason: str = ""
    ) -> Delivery:
        params = {"id": delivery_id, "destination": destination, "now": time.time()}
        with self._intake.write() as db:
            row = db.execute(_Q["release"], params).fetchone()
            if row is None:
                current = db.execute(_Q["get_delivery"], {"id": delivery_id}).fetchone()
                if current is None:
                    raise NotFound("delivery", delivery_id)
                raise StoreError(f"delivery {delivery_id} is {current['state']}, not held")
            _event(
                db,
                "delivery",
                delivery_id,
                "released",
                actor,
                f"to {row['destination']}; {reason}",
            )
        return delivery_from_row(row)

    def replay_file(self, file_id: int, *, actor: str, reason: str = "") -> int:
        with self._intake.write() as db:
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
        with self._intake.write() as db:
            row = _event(db, entity_type, entity_id, action, actor, reason)
        return event_from_row(row)

    def events(self, entity_type: str, entity_id: int | str) -> list[Event]:
        params = {"entity_type": entity_type, "entity_id": str(entity_id)}
        return [event_from_row(row) for row in self._intake.all(_Q["events"], params)]

    # -- poll leases -------------------------------------------------------------------------

    def _poll_lease(self, query: str, partner: str, holder: str, seconds: float = 0) -> bool:
        params = {"partner": partner, "holder": holder, "seconds": seconds, "now": time.time()}
        with self._queue.write() as db:
            return db.execute(_Q[query], params).fetchone() is not None

    def acquire_poll_lease(self, partner: str, holder: str, seconds: float) -> bool:
        return self._poll_lease("acquire_poll_lease", partner, holder, seconds)

    def renew_poll_lease(self, partner: str, holder: str, seconds: float) -> bool:
        return self._poll_lease("renew_poll_lease", partner, holder, seconds)

    def release_poll_lease(self, partner: str, holder: str) -> None:
        with self._queue.write() as db:
            db.execute(_Q["release_poll_lease"], {"partner": partner, "holder": holder})
