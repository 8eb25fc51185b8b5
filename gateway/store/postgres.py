"""The shared message store: PostgreSQL, for a PSAO that runs several daemons at once.

The store's logic is shared with SQLite (sqlstore.py); this module holds what PostgreSQL does
its own way, following shared/reference/transport-and-queue.md:

- Claims are one short autocommit statement with ``FOR UPDATE SKIP LOCKED``: two workers never
  take the same row and never wait for each other. The lease (token + ``due_at``) — not an
  open transaction — is what holds a delivery during a transfer that may take minutes.
- Transactions are short and few: the queue statements (claim, heartbeat, ack, fail) and the
  insertion of a delivery each log their event in the same statement (a data-modifying CTE).
- Two connections, as in the SQLite store. The *intake* connection (receiving, routing,
  operators) commits synchronously; the *queue* connection runs ``synchronous_commit=off``
  (a commit lost to a server crash only makes a delivery happen again, under the same name).
- Payloads live in the database (1 MiB bytea chunks; sealed when encryption is on, their
  envelopes in ``payload_envelopes``), committed in the same transaction as the
  file row: every daemon reads them without a shared file system, and backups cover them.

Times come from the database clock (``now()``), so daemons on several hosts agree on leases.
A broken connection (server restart) is reopened on the next call.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, BinaryIO

import psycopg

from gateway.errors import StoreError
from gateway.store.base import NotFound
from gateway.store.connection import Transaction, returned_row
from gateway.store.control_numbers import Raced, StoreControlNumbers
from gateway.store.crypt.envelopes import PayloadSealer
from gateway.store.crypt.keys import Keyring
from gateway.store.crypt.stream import sealed_size
from gateway.store.exclusive import NoLock
from gateway.store.models import Row
from gateway.store.operator_sql import OperatorSQLStore
from gateway.store.payloads import check_sha256
from gateway.store.postgres_connection import PostgresConnection, describe_url
from gateway.store.postgres_payloads import PayloadBatch, PostgresPayloads
from gateway.store.sqlfiles import queries
from gateway.store.sqlstore import Params

CHUNK = 1 << 20
_SPOOL = 8 << 20
_Q = queries("postgres")
_ALERTS = queries("postgres", "alerts")


class PostgresStore(OperatorSQLStore[PostgresConnection]):
    """The message store on a PostgreSQL database shared by every daemon."""

    backend = "postgres"

    def __init__(self, url: str, keyring: Keyring | None = None) -> None:
        self.url = url
        intake = PostgresConnection(url, synchronous_commit=True)
        self.sealer = PayloadSealer(intake, "postgres", keyring)
        self._payloads = PostgresPayloads(intake, self.sealer)
        super().__init__(intake, PostgresConnection(url, synchronous_commit=False), _Q, _ALERTS)

    def __repr__(self) -> str:
        return f"PostgresStore({describe_url(self.url)!r})"

    def deferred_commits(self) -> AbstractContextManager[None]:
        return self._intake.deferred_commits()

    def control_numbers(self) -> PostgresControlNumbers:
        return PostgresControlNumbers(self._intake, queries("postgres", "control"))

    def exclusive(self, purpose: str) -> NoLock:
        return NoLock().acquire(purpose)  # several daemons share it: leases keep them apart

    # -- payloads ----------------------------------------------------------------------------

    def put_payload(self, data: BinaryIO) -> str:
        return self._payloads.put_payload(data)

    def payload_batch(self) -> AbstractContextManager[PayloadBatch]:
        return self._payloads.batch()

    def open_payload(self, sha256: str) -> AbstractContextManager[BinaryIO]:
        """The stored bytes (ciphertext, if sealed) spooled to memory (up to 8 MiB) or a temp
        file, read chunk by chunk, then unsealed as they are read."""
        params: dict[str, Any] = {"sha256": check_sha256(sha256)}
        found = self._intake.one(_Q["payload_size"], params)
        if found is None:
            raise StoreError(f"payload {sha256} is not in the store", where=repr(self))
        sealed = self.sealer.envelope(sha256) is not None
        expected = sealed_size(found["size"]) if sealed else found["size"]
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL)  # noqa: SIM115 (returned open)
        seq = 0
        while spool.tell() < expected:
            row = self._intake.one(_Q["payload_chunk"], {**params, "seq": seq})
            if row is None:
                spool.close()
                raise StoreError(f"payload {sha256} is missing chunk {seq}", where=repr(self))
            spool.write(row["data"])
            seq += 1
        spool.seek(0)
        return self.sealer.open(sha256, spool, f"{self!r} payload {sha256}")  # type: ignore[arg-type]

    # -- the hooks of SQLStore ---------------------------------------------------------------

    def _receive(self, payload_path: Path, params: Params, actor: str) -> Row:
        """Bytes and row in one transaction: both are kept, or neither."""
        with payload_path.open("rb") as data, self._intake.transaction() as db:
            self._check_kept(self._payloads.put(db, data), params)
            return self._record_file(db, params, actor)

    def _insert_documents(self, db: Transaction, file_id: int,
                          documents: Sequence[Params]) -> list[Row]:
        """All the documents and their keys in one statement (``insert_documents``: the keys
        come from each row's routing_keys); one another daemon recorded meanwhile, which
        that statement's snapshot missed, is read back at its ordinal."""
        given = json.dumps([{**document, "now": None} for document in documents],
                           sort_keys=True)
        found = db.execute(_Q["insert_documents"], {"file_id": file_id, "documents": given})
        rows = {row["ordinal"]: row for row in found.fetchall()}
        for document in documents:
            if document["ordinal"] not in rows:
                again = db.execute(_Q["document_by_ordinal"], document)
                rows[document["ordinal"]] = returned_row(again, "document_by_ordinal")
        return [rows[document["ordinal"]] for document in documents]

    def _insert_deliveries(self, params: Sequence[Params]) -> list[Row]:
        # One request is one statement (delivery + event), atomic without a transaction; a
        # file's requests are pipelined (executemany): one round trip, not one each.
        if not params:
            return []
        scope = self._intake.transaction() if len(params) > 1 else self._intake.session()
        rows: list[Row] = []
        try:
            with scope as db:
                cursor = db.cursor()
                cursor.executemany(_Q["insert_delivery"], params, returning=True)
                inserted: list[Row | None] = [cursor.fetchone()]
                while cursor.nextset():
                    inserted.append(cursor.fetchone())
                for delivery, row in zip(params, inserted, strict=True):
                    if row is None:  # its idempotency key exists: the router ran again
                        found = db.execute(_Q["delivery_by_key"], delivery)
                        row = returned_row(found, "delivery_by_key")
                    rows.append(row)
        except psycopg.errors.ForeignKeyViolation:
            ids = ", ".join(sorted({str(delivery["document_id"]) for delivery in params}))
            raise NotFound("document", ids) from None
        return rows

    def _lease_next(self, params: Params) -> Row | None:
        """One ``FOR UPDATE SKIP LOCKED`` statement that also logs a takeover."""
        return self._queue.write_one(_Q["claim"], params)

    def _end_lease(self, name: str, params: Params) -> Row | None:
        """The ack and fail statements log their own event."""
        return self._queue.write_one(_Q[name], params)


class PostgresControlNumbers(StoreControlNumbers):
    """The same numbers, a set's worth in one statement (``control_assign_many``)."""

    def __init__(self, connection: PostgresConnection, sql: Mapping[str, str]) -> None:
        super().__init__(connection, sql)
        self._pg = connection

    def _assign_once(self, parts: Sequence[tuple[str, str]]) -> list[int]:
        params = {"sequences": [destination for destination, _ in parts],
                  "keys": [key for _, key in parts]}
        try:
            # Autocommit: the statement is its own transaction, committed without a flush.
            row = self._pg.one(self._sql["control_assign_many"], params)
        except psycopg.errors.UniqueViolation:
            raise Raced from None  # the statement rolled back whole: no gap
        numbers = [int(number) for number in row["numbers"]] if row else []
        if len(numbers) != len(parts):
            raise StoreError(f"assign_control_numbers returned {len(numbers)} numbers for "
                             f"{len(parts)} parts", fix="check the migrations applied")
        return numbers
