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
import secrets
import tempfile
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

import psycopg

from gateway.errors import StoreError
from gateway.store.connection import Transaction, returned_row
from gateway.store.control_numbers import Raced, StoreControlNumbers
from gateway.store.crypt.envelopes import Envelope, PayloadSealer
from gateway.store.crypt.keys import Keyring
from gateway.store.crypt.stream import sealed_size
from gateway.store.errors import NotFound
from gateway.store.exclusive import NoLock
from gateway.store.models import Claim, Row
from gateway.store.operator_sql import OperatorSQLStore
from gateway.store.payloads import check_sha256
from gateway.store.postgres_connection import PostgresConnection, describe_url
from gateway.store.postgres_payloads import PayloadBatch, PostgresPayloads
from gateway.store.sqlfiles import queries
from gateway.store.sqlstore import Params, ack_params

CHUNK = 1 << 20
_SPOOL = 8 << 20
_Q = queries("postgres")
_NO_ACK = dict.fromkeys(("ack_id", "ack_token", "output_sha256", "location", "reason"))
_ALERTS = queries("postgres", "alerts")


class _Payload(NamedTuple):
    """What a claim read of the payload a delivery sends."""

    sha256: str
    size: int  # of the plaintext
    envelope: Envelope | None  # None: kept in plaintext
    head: bytes | None  # the first stored chunk; None when it has none (empty)


@dataclass(frozen=True)
class _PayloadClaim(Claim):
    payload: _Payload | None  # None: no stored payload (opening it says what is missing)


class PostgresStore(OperatorSQLStore[PostgresConnection]):
    """The message store on a PostgreSQL database shared by every daemon."""

    backend = "postgres"

    def __init__(self, url: str, keyring: Keyring | None = None) -> None:
        self.url = url
        self._name = f"PostgresStore({describe_url(url)!r})"  # in every payload's errors
        intake = PostgresConnection(url, synchronous_commit=True)
        self.sealer = PayloadSealer(intake, "postgres", keyring)
        self._payloads = PostgresPayloads(intake, self.sealer)
        super().__init__(intake, PostgresConnection(url, synchronous_commit=False), _Q, _ALERTS)

    def __repr__(self) -> str:
        return self._name

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
        found = self._intake.one(_Q["payload_size"], {"sha256": check_sha256(sha256)})
        if found is None:
            raise StoreError(f"payload {sha256} is not in the store", where=repr(self))
        return self._open(sha256, found["size"], self.sealer.envelope(sha256), None)

    def open_claimed(self, claim: Claim) -> AbstractContextManager[BinaryIO]:
        """What the claim read along — size, envelope, first chunk — is not read again."""
        if not isinstance(claim, _PayloadClaim) or claim.payload is None:
            return super().open_claimed(claim)
        return self._open(*claim.payload)

    def _open(self, sha256: str, size: int, envelope: Envelope | None,
              head: bytes | None) -> BinaryIO:
        """The payload from its chunks, the first one given when ``head`` is not None."""
        expected = sealed_size(size) if envelope is not None else size
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL)  # noqa: SIM115 (returned open)
        seq = 0
        if head is not None:
            spool.write(head)
            seq = 1
        while spool.tell() < expected:
            row = self._intake.one(_Q["payload_chunk"], {"sha256": sha256, "seq": seq})
            if row is None:
                spool.close()
                raise StoreError(f"payload {sha256} is missing chunk {seq}", where=repr(self))
            spool.write(row["data"])
            seq += 1
        spool.seek(0)
        where = f"{self!r} payload {sha256}"
        return self.sealer.open_with(envelope, sha256, spool, where)  # type: ignore[arg-type]

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
        """One ``FOR UPDATE SKIP LOCKED`` statement that also logs a takeover and reads the
        payload's size, envelope and first chunk along (acknowledging nothing)."""
        return self._claim_statement({**_NO_ACK, **params})[1]

    def ack_and_claim(self, delivery_id: int, token: str, *, output_sha256: str, location: str,
                      worker: str, lease_seconds: float) -> tuple[bool, Claim | None]:
        """The ack and the next claim in one statement: one round trip, one transaction."""
        new = secrets.token_hex(16)
        params = {**ack_params(delivery_id, token, output_sha256, location),
                  "ack_id": delivery_id, "ack_token": token, "token": new, "worker": worker,
                  "lease": float(lease_seconds)}
        acked, row = self._claim_statement(params)
        return acked, self._claimed(row, new)

    def _claim_statement(self, params: Params) -> tuple[bool, Row | None]:
        """Run ``claim``: whether it acknowledged ``ack_id``, and the row it leased."""
        row = self._queue.write_one(_Q["claim"], params)
        if row is None:  # it returns one row, whatever it found
            raise StoreError("the store's statement 'claim' returned no row",
                             fix="the schema and queries.sql disagree: check the migrations")
        return bool(row["acked"]), (None if row["id"] is None else row)

    def _claimed(self, row: Row | None, token: str) -> Claim | None:
        claim = super()._claimed(row, token)
        if claim is None or row is None:
            return None
        payload = None
        if row["payload_key"] is not None:  # else opening it says what is missing
            envelope = None if row["blob_id"] is None else Envelope(
                bytes(row["blob_id"]), row["key_id"], bytes(row["wrapped_key"]))
            head = None if row["payload_head"] is None else bytes(row["payload_head"])
            payload = _Payload(row["payload_key"], int(row["payload_size"]), envelope, head)
        return _PayloadClaim(claim.delivery, claim.token, claim.expires_at, payload)

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
