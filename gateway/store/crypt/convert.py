"""Sealing the payloads kept in plaintext before encryption was on (``gateway keys
encrypt-existing``): each is read, sealed under the current key and put back under the same
name, one payload per transaction, so a run stopped half-way resumes and a second run finds
nothing to do. The plaintext copy is gone once its sealed copy and envelope are committed
(SQLite: the sealed file is renamed over the plaintext one; PostgreSQL: its chunks are
replaced in one transaction — stop the daemons first there, a reader mid-way through a
payload's chunks would see the swap)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING

from gateway.errors import StoreError

if TYPE_CHECKING:
    from gateway.store.base import MessageStore

_SPOOL = 8 << 20


def seal_existing(store: MessageStore) -> Iterator[str]:
    """Seal every plaintext payload of ``store``; yields each SHA-256 sealed."""
    if not store.sealer.sealing:
        raise StoreError("payload encryption is not on: nothing to seal under",
                         where="[encryption] in gateway.toml",
                         fix='set payloads = "on" and key = "file:PATH", then run again')
    from gateway.store.postgres import PostgresStore
    from gateway.store.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        yield from _sqlite(store)
    elif isinstance(store, PostgresStore):
        yield from _postgres(store)


def _sqlite(store: MessageStore) -> Iterator[str]:
    from gateway.store.payloads import check_sha256
    from gateway.store.sqlite import SQLiteStore

    assert isinstance(store, SQLiteStore)
    root = store.payloads.root
    for path in sorted(root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*")):
        sha256 = check_sha256(path.name)
        if store.sealer.envelope(sha256) is not None:
            continue
        with path.open("rb") as plain:
            kept = store.payloads.put(plain)  # the file without an envelope is replaced
        if kept[0] != sha256:
            raise StoreError(f"payload file {path} holds bytes with SHA-256 {kept[0]}",
                             fix="restore the payload directory from backup")
        yield sha256


def _postgres(store: MessageStore) -> Iterator[str]:
    from gateway.store.postgres import PostgresStore

    assert isinstance(store, PostgresStore)
    sql = "SELECT p.sha256 FROM payloads p WHERE NOT EXISTS (SELECT 1 FROM payload_envelopes e "\
          "WHERE e.sha256 = p.sha256) ORDER BY p.sha256"
    for row in store._intake.all(sql, {}):
        sha256 = row["sha256"]
        with store.open_payload(sha256) as plain, tempfile.SpooledTemporaryFile(_SPOOL) as out, \
                store._intake.transaction() as db:
            _, _, envelope = store.sealer.seal(plain, out)  # type: ignore[arg-type]
            out.seek(0)
            db.execute("DELETE FROM payload_chunks WHERE sha256 = %(sha256)s", {"sha256": sha256})
            seq = 0
            while chunk := out.read(1 << 20):
                db.execute("INSERT INTO payload_chunks (sha256, seq, data) "
                           "VALUES (%(sha256)s, %(seq)s, %(data)s)",
                           {"sha256": sha256, "seq": seq, "data": chunk})
                seq += 1
            store.sealer.record(db, sha256, envelope)
        yield sha256
