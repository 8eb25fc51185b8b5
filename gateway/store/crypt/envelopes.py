"""Where each sealed payload's data key is kept: the ``payload_envelopes`` table.

Both back ends keep the envelope (blob id, key id, wrapped data key) in their database, beside
the rows that name the payload: the SQLite store's payload *files* hold only ciphertext, and a
rotation is an ``UPDATE`` of 60-byte values, in batches that each commit (a rotation killed
half-way resumes where it stopped; run again, it finds nothing to do). A payload with no
envelope is plaintext — one kept before encryption was on — and stays readable.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from gateway.errors import StoreError
from gateway.store.connection import Connection, Transaction
from gateway.store.crypt.keys import Keyring, new_data_key
from gateway.store.crypt.stream import (
    HEADER_SIZE,
    MAGIC,
    Header,
    SealBroken,
    read_full,
    seal,
    unsealed,
)
from gateway.store.sqlfiles import queries

REWRAP_BATCH = 500


@dataclass(frozen=True)
class Envelope:
    blob_id: bytes
    key_id: str
    wrapped_key: bytes


class PayloadSealer:
    """Seals new payloads under the keyring's current key and opens sealed or plain ones."""

    def __init__(self, connection: Connection, backend: str, keyring: Keyring | None) -> None:
        self._db = connection
        self._sql = queries(backend, "crypt")
        self.keyring = keyring
        self._seals = True  # until a look at payload_envelopes says otherwise

    @property
    def sealing(self) -> bool:
        """Whether new payloads are sealed (a key is configured and encryption is on)."""
        return self.keyring is not None and self.keyring.current is not None

    def allow_plaintext(self, db: Transaction | None = None) -> None:
        """Before a plaintext put: refused when no keys were given (not an explicit off) to a
        store that already seals — a command opened without --config, a gateway.toml whose
        [encryption] went missing — so that only ``payloads = "off"`` writes plaintext.
        ``db``: the transaction the put runs in, if any (its connection is taken)."""
        if self.keyring is not None or not self._seals:
            return
        sql = self._sql["any_envelope"]
        found = db.execute(sql, {}).fetchone() if db is not None else self._db.one(sql, {})
        if found is None:
            self._seals = False  # checked once per store opened: a plaintext store stays so
            return
        raise StoreError("this store keeps its payloads encrypted and no key was given: "
                         "nothing is written in plaintext",
                         fix="run the command with --config PATH (the gateway.toml whose "
                         '[encryption] names the key); payloads = "off" there only by choice')

    def transaction(self) -> AbstractContextManager[Transaction]:
        return self._db.transaction()

    def seal(self, data: BinaryIO, out: BinaryIO) -> tuple[str, int, Envelope]:
        """Encrypt ``data`` into ``out`` under a fresh data key; (sha256, size, envelope)."""
        assert self.keyring is not None
        data_key = new_data_key()
        sha256, size, header = seal(data, out, data_key)
        key_id, wrapped = self.keyring.wrap(data_key, sha256, header.blob_id)
        return sha256, size, Envelope(header.blob_id, key_id, wrapped)

    def envelope(self, sha256: str, db: Transaction | None = None) -> Envelope | None:
        params = {"sha256": sha256}
        row = (db.execute(self._sql["envelope"], params).fetchone() if db is not None
               else self._db.one(self._sql["envelope"], params))
        if row is None:
            return None
        return Envelope(bytes(row["blob_id"]), row["key_id"], bytes(row["wrapped_key"]))

    def record(self, db: Transaction, sha256: str, envelope: Envelope) -> None:
        db.execute(self._sql["put_envelope"], _envelope_params(sha256, envelope))

    def record_many(self, db: Batch, sealed: Sequence[tuple[str, Envelope]]) -> None:
        """The envelopes of several payloads in one call (psycopg pipelines ``executemany``:
        one round trip for a batch of parts)."""
        db.executemany(self._sql["put_envelope"],
                       [_envelope_params(sha256, envelope) for sha256, envelope in sealed])

    def drop(self, db: Transaction, sha256: str) -> None:
        db.execute(self._sql["drop_envelope"], {"sha256": sha256})

    def open(self, sha256: str, source: BinaryIO, where: str) -> BinaryIO:
        """The plaintext of a stored payload read from ``source`` (seekable, at 0): through
        the unsealer when it has an envelope, as it is when it has none."""
        try:
            envelope = self.envelope(sha256)
        except BaseException:
            source.close()
            raise
        return self.open_with(envelope, sha256, source, where)

    def open_with(self, envelope: Envelope | None, sha256: str, source: BinaryIO,
                  where: str) -> BinaryIO:
        """:meth:`open` with the payload's envelope (or None) already read — by the query that
        fetched the payload's size, or by a delivery's claim — so it is not read again."""
        try:
            head = read_full(source, HEADER_SIZE)
            if envelope is None:
                if head.startswith(MAGIC):
                    raise StoreError(f"payload {sha256} is sealed but its envelope (its "
                                     "wrapped data key) is missing", where=where,
                                     fix="restore the database and the payloads from the "
                                     "same backup")
                source.seek(0)
                return source
            header = Header.decode(head, where)
            if header.blob_id != envelope.blob_id:
                raise SealBroken(f"payload {sha256} is not the blob its envelope names",
                                 where=where, fix="restore the payload from backup")
            if self.keyring is None:
                raise StoreError(f"payload {sha256} is encrypted under key id "
                                 f"{envelope.key_id} and no key was given", where=where,
                                 fix="run the command with --config PATH (the gateway.toml "
                                 "whose [encryption] names the key)")
            data_key = self.keyring.unwrap(envelope.key_id, envelope.wrapped_key, sha256,
                                           envelope.blob_id)
        except BaseException:
            source.close()
            raise
        return unsealed(source, header, data_key, sha256, where)

    # -- rotation ------------------------------------------------------------------------------

    def rewrap_all(self, batch: int = REWRAP_BATCH) -> Iterator[int]:
        """Re-wrap every data key not under the current key; yields the count after each
        committed batch. Only key ids and wrapped keys change."""
        keyring = self.keyring
        if keyring is None or keyring.current is None:
            raise StoreError("there is no current key to re-wrap under",
                             where="[encryption] in gateway.toml",
                             fix='set payloads = "on" and key = "file:PATH" (the new key)')
        current, done, after = keyring.current.key_id, 0, ""
        while True:
            with self._db.transaction() as db:
                rows = db.execute(self._sql["envelopes_to_rewrap"],
                                  {"key_id": current, "after": after, "limit": batch}).fetchall()
                for row in rows:
                    sha256, blob_id = row["sha256"], bytes(row["blob_id"])
                    data_key = keyring.unwrap(row["key_id"], bytes(row["wrapped_key"]),
                                              sha256, blob_id)
                    _, wrapped = keyring.wrap(data_key, sha256, blob_id)
                    db.execute(self._sql["rewrap"], {"sha256": sha256, "key_id": current,
                                                     "wrapped_key": wrapped,
                                                     "old_key_id": row["key_id"]})
                    after = sha256
            done += len(rows)
            yield done
            if len(rows) < batch:
                return

    def keys_in_use(self) -> list[tuple[str, int]]:
        """(key id, payloads wrapped under it), by key id."""
        return [(row["key_id"], int(row["payloads"]))
                for row in self._db.all(self._sql["keys_in_use"], {})]


def _now() -> float:
    import time

    return time.time()


def _envelope_params(sha256: str, envelope: Envelope) -> dict[str, object]:
    return {"sha256": sha256, "blob_id": envelope.blob_id, "key_id": envelope.key_id,
            "wrapped_key": envelope.wrapped_key, "now": _now()}


class Batch(Protocol):
    """A cursor that runs one statement over many parameter sets (sqlite3's, psycopg's)."""

    def executemany(self, sql: str, params: Sequence[Mapping[str, object]], /) -> object: ...


def blob_id_of(path: os.PathLike[str]) -> bytes | None:
    """The blob id in a sealed payload file's header; None if the file is not sealed."""
    try:
        with open(path, "rb") as found:
            head = found.read(HEADER_SIZE)
    except FileNotFoundError:
        return None
    if len(head) != HEADER_SIZE or not head.startswith(MAGIC):
        return None
    return Header.decode(head, str(path)).blob_id
