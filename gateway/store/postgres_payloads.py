"""How the PostgreSQL store keeps payloads: rows, 1 MiB chunks and envelopes, few statements.

A payload is sealed (or only hashed) on its way in — its key is its plaintext's SHA-256 — and
then written as a ``payloads`` row, its chunks (ciphertext when sealing) and its envelope, all
in one transaction, and only when these bytes are not kept already. Chunks and envelopes go
by ``executemany``, which psycopg pipelines: up to 2 MiB of chunks per round trip, sent binary.
(One statement over a ``bytea[]`` of them was measured 25 times dearer in CPU: psycopg builds
the array in Python.)

:meth:`PostgresPayloads.batch` is for the route's thousand small parts: each put is sealed at
once and its key returned, the stored bytes wait in memory, and up to 2 MiB of parts are written
in one transaction of three round trips instead of a transaction of four to six round trips
each. Whatever waits is written when the batch ends; nothing names a part before then (the
route records the parts' documents after the split), so a crash before the end leaves nothing
behind that anything refers to, and the redone route writes the same parts again.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

import psycopg
from psycopg.rows import DictRow

from gateway.store.crypt.envelopes import Envelope, PayloadSealer
from gateway.store.payloads import copy_hashing
from gateway.store.postgres_connection import PostgresConnection
from gateway.store.sqlfiles import queries

CHUNK = 1 << 20
# The chunks of one statement, the parts of one batch: psycopg holds a few copies of a
# statement's parameters while it sends them, so this bounds a put's memory too.
STATEMENT_BYTES = 2 << 20
_Q = queries("postgres")


@dataclass
class _Prepared:
    """A payload ready for the database: key, plaintext size, stored bytes, envelope."""

    sha256: str
    size: int
    source: BinaryIO  # the bytes to store (ciphertext when sealed), from its position
    envelope: Envelope | None


class PostgresPayloads:
    """Payload writing of a :class:`gateway.store.postgres.PostgresStore`."""

    def __init__(self, intake: PostgresConnection, sealer: PayloadSealer) -> None:
        self._intake = intake
        self.sealer = sealer

    def put(self, db: psycopg.Connection[DictRow], data: BinaryIO) -> tuple[str, int]:
        """Keep ``data`` in ``db``'s transaction; its (sha256, size)."""
        with tempfile.SpooledTemporaryFile(max_size=STATEMENT_BYTES) as spool:
            prepared = self._prepare(data, spool, db)  # type: ignore[arg-type]
            self._write(db, [prepared])
        return prepared.sha256, prepared.size

    def put_payload(self, data: BinaryIO) -> str:
        with self._intake.transaction() as db:
            return self.put(db, data)[0]

    @contextmanager
    def batch(self) -> Iterator[PayloadBatch]:
        """Puts written several to a transaction (see the module's docstring)."""
        batch = PayloadBatch(self)
        yield batch
        batch.flush()

    def _prepare(self, data: BinaryIO, spool: BinaryIO,
                 db: psycopg.Connection[DictRow] | None) -> _Prepared:
        """Seal ``data`` into ``spool``, or hash it (spooled when it cannot be read twice)."""
        if self.sealer.sealing:
            sha256, size, envelope = self.sealer.seal(data, spool)
            spool.seek(0)
            return _Prepared(sha256, size, spool, envelope)
        self.sealer.allow_plaintext(db)
        source, sha256, size = _hashed(data, spool)
        return _Prepared(sha256, size, source, None)

    def _write(self, db: psycopg.Connection[DictRow], payloads: Sequence[_Prepared]) -> None:
        """The rows of ``payloads`` (distinct keys) and, for those not kept yet, their chunks
        and envelopes: three round trips for a batch, more only past 2 MiB of chunks."""
        params = {"sha256": [p.sha256 for p in payloads], "size": [p.size for p in payloads]}
        new = {row["sha256"] for row in db.execute(_Q["insert_payloads"], params).fetchall()}
        chunks = _Chunks(db)
        for payload in payloads:
            if payload.sha256 in new:
                seq = 0
                while chunk := payload.source.read(CHUNK):
                    chunks.add(payload.sha256, seq, chunk)
                    seq += 1
        chunks.flush()
        sealed = [(p.sha256, p.envelope) for p in payloads if p.sha256 in new and p.envelope]
        if sealed:
            self.sealer.record_many(db.cursor(), sealed)


class PayloadBatch:
    """``put_payload`` of :meth:`PostgresPayloads.batch`."""

    def __init__(self, payloads: PostgresPayloads) -> None:
        self._payloads = payloads
        self._waiting: dict[str, _Prepared] = {}
        self._bytes = 0

    def put_payload(self, data: BinaryIO) -> str:
        with tempfile.SpooledTemporaryFile(max_size=STATEMENT_BYTES) as spool:
            prepared = self._payloads._prepare(data, spool, None)  # type: ignore[arg-type]
            if prepared.sha256 in self._waiting:
                return prepared.sha256
            at = prepared.source.tell()
            stored = prepared.source.read(STATEMENT_BYTES + 1)
            if len(stored) > STATEMENT_BYTES:  # a big one goes on its own, after the others
                self.flush()
                prepared.source.seek(at)
                with self._payloads._intake.transaction() as db:
                    self._payloads._write(db, [prepared])
                return prepared.sha256
        prepared.source = io.BytesIO(stored)
        self._waiting[prepared.sha256] = prepared
        self._bytes += len(stored)
        if self._bytes >= STATEMENT_BYTES:
            self.flush()
        return prepared.sha256

    def flush(self) -> None:
        """Write every waiting payload, in one transaction."""
        if self._waiting:
            with self._payloads._intake.transaction() as db:
                self._payloads._write(db, list(self._waiting.values()))
        self._waiting, self._bytes = {}, 0


class _Chunks:
    """Chunk rows sent up to 2 MiB at a time (one pipelined ``executemany``)."""

    def __init__(self, db: psycopg.Connection[DictRow]) -> None:
        self._db = db
        self._rows: list[dict[str, object]] = []
        self._bytes = 0

    def add(self, sha256: str, seq: int, data: bytes) -> None:
        if self._bytes + len(data) > STATEMENT_BYTES:
            self.flush()
        self._rows.append({"sha256": sha256, "seq": seq, "data": data})
        self._bytes += len(data)

    def flush(self) -> None:
        if self._rows:
            self._db.cursor().executemany(_Q["insert_payload_chunk"], self._rows)
        self._rows, self._bytes = [], 0


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
