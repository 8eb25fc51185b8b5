"""The embedded message store: SQLite in WAL mode plus a content-addressed payload directory.

The store's logic is shared with PostgreSQL (sqlstore.py); this module holds what SQLite does
its own way. Durability settings follow the measurements in
shared/reference/transport-and-queue.md:

- WAL, ``busy_timeout`` 10 s, ``isolation_level=None`` and ``BEGIN IMMEDIATE`` for every
  read-then-write (see sqlite_connection.py).
- Two connections. The *intake* connection (receiving files, routing, operator actions) runs
  ``synchronous=FULL``: its commits are promises to partners and operators and must survive a
  power cut. The *queue* connection (claim, heartbeat, ack, fail) runs ``NORMAL``: a commit
  lost to a power cut only makes a delivery happen again, under the same name. A FULL commit
  also makes every earlier WAL frame durable, so ordering is never violated.
- Payloads are files (payloads.py), sealed when encryption is on (crypt/), fsynced before
  the row that names them is committed, and written outside the database's write lock
  so a large file does not stall the workers.
- SQLite has no data-modifying CTEs, so the events the PostgreSQL statements log themselves
  are logged here by a second statement in the same transaction.

Each connection is guarded by a lock, so one store may be shared by a pool of worker threads.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO

from gateway.fsutil import private_directory, private_file
from gateway.store.connection import returned_row
from gateway.store.crypt.envelopes import PayloadSealer
from gateway.store.crypt.keys import Keyring
from gateway.store.errors import NotFound
from gateway.store.exclusive import StoreLock
from gateway.store.models import DeliveryState, Row
from gateway.store.operator_sql import OperatorSQLStore
from gateway.store.payloads import PayloadDirectory
from gateway.store.sqlfiles import queries
from gateway.store.sqlite_connection import SQLiteConnection
from gateway.store.sqlstore import Params

_Q = queries("sqlite")
_SIDE_FILES = ("-wal", "-shm", "-journal")
_ALERTS = queries("sqlite", "alerts")


class SQLiteStore(OperatorSQLStore[SQLiteConnection]):
    """One database file (WAL) and a payload directory beside it."""

    backend = "sqlite"

    def __init__(self, path: Path | str, payload_dir: Path | str | None = None,
                 keyring: Keyring | None = None) -> None:
        self.path = Path(path)
        private_directory(self.path.parent, existing=False)
        for kept in (self.path, *(self.path.with_name(self.path.name + s) for s in _SIDE_FILES)):
            if kept == self.path or kept.exists():
                private_file(kept)  # 0600 before SQLite opens it: WAL/SHM inherit its mode
        intake, queue = SQLiteConnection(self.path, "FULL"), SQLiteConnection(self.path, "NORMAL")
        self.sealer = PayloadSealer(intake, "sqlite", keyring)
        self.payloads = PayloadDirectory(
            Path(payload_dir) if payload_dir else self.path.with_name(self.path.stem + "-payloads"),
            self.sealer,
        )
        super().__init__(intake, queue, _Q, _ALERTS)

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    def exclusive(self, purpose: str) -> StoreLock:
        return StoreLock(self.path).acquire(purpose)

    # -- payloads ----------------------------------------------------------------------------

    def put_payload(self, data: BinaryIO) -> str:
        return self.payloads.put(data)[0]

    def open_payload(self, sha256: str) -> AbstractContextManager[BinaryIO]:
        return self.payloads.open(sha256)

    # -- the hooks of SQLStore ---------------------------------------------------------------

    def _receive(self, payload_path: Path, params: Params, actor: str) -> Row:
        """The payload file first (fsynced), then the row: a crash in between leaves an orphan
        payload, harmless, never a row without its bytes."""
        with payload_path.open("rb") as data:
            kept = self.payloads.put(data)
        self._check_kept(kept, params)
        with self._intake.transaction() as db:
            return self._record_file(db, params, actor)

    def _insert_deliveries(self, params: Sequence[Params]) -> list[Row]:
        rows = []
        with self._intake.transaction() as db:
            for delivery in params:
                try:
                    row = db.execute(_Q["insert_delivery"], delivery).fetchone()
                except sqlite3.IntegrityError:  # the document's foreign key; all rolled back
                    raise NotFound("document", delivery["document_id"]) from None
                if row is None:  # its idempotency key exists: the router ran again
                    found = db.execute(_Q["delivery_by_key"], delivery)
                    row = returned_row(found, "delivery_by_key")
                else:
                    action, actor = delivery["action"], delivery["actor"]
                    self._log(db, "delivery", row["id"], action, actor, delivery["reason"])
                rows.append(row)
        return rows

    def _lease_next(self, params: Params) -> Row | None:
        """Find and lease under BEGIN IMMEDIATE: the write lock makes the two statements one
        step, so two workers never take the same row."""
        with self._queue.transaction() as db:
            due = db.execute(_Q["next_due"], params).fetchone()
            if due is None:
                return None
            row = returned_row(db.execute(_Q["lease"], {**params, "id": due["id"]}), "lease")
            if due["state"] == DeliveryState.LEASED:  # see MessageStore.claim: only a takeover
                actor = f"worker:{params['worker']}"
                reason = f"lease of {due['leased_by']} expired; attempt {row['attempts']}"
                self._log(db, "delivery", row["id"], "reclaimed", actor, reason)
        return row

    def _end_lease(self, name: str, params: Params) -> Row | None:
        with self._queue.transaction() as db:
            row = db.execute(_Q[name], params).fetchone()
            if row is not None:
                actor = f"worker:{row['leased_by']}"
                reason = f"attempt {row['attempts']}: {params['reason']}"
                self._log(db, "delivery", row["id"], row["state"], actor, reason)
        return row
