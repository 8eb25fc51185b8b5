"""A delivery's store round trips (issue 13): what a claim reads along, on both back ends.

PostgreSQL's claim returns the payload's size, envelope and first chunk with the lease, so
opening a payload of one chunk is no query at all; a longer one reads only the chunks after
the first. Whatever the claim read, the bytes a worker sends are those ``open_payload``
gives — sealed or plain, one chunk or several, the delivery's own rendering or its
document's — and a tampered or missing payload is the same error as before.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from gateway.errors import StoreError
from gateway.store import MessageStore, open_store
from gateway.store.crypt.keys import Keyring, new_key_text, parse_key
from gateway.store.crypt.stream import SealBroken
from gateway.store.postgres_connection import PostgresConnection

CHUNK_READ = "SELECT data FROM payload_chunks WHERE sha256 = %(sha256)s AND seq = %(seq)s"

SEALED = Keyring(parse_key(new_key_text(), "test"))


@pytest.fixture(params=["plain", "sealed"])
def any_store(request: pytest.FixtureRequest, store_url: str) -> Iterator[MessageStore]:
    with open_store(store_url, keyring=SEALED if request.param == "sealed" else None) as opened:
        yield opened


def queued(store: MessageStore, data: bytes, *, own: bool = True, name: str = "p1") -> int:
    """A delivery of ``data``: its own stored rendering (``own``) or its document's payload."""
    sha = store.put_payload(io.BytesIO(data))
    file_id = store.list_files()[0].id if store.list_files() else _file(store)
    doc = store.add_document(file_id, len(store.documents_of_file(file_id)), kind="835",
                             routing_keys={"payee_npi": "1234567893"}, payload_sha256=sha)
    return store.enqueue(doc.id, destination=name, format="835", output_name=f"{name}.835",
                         payload_sha256=sha if own else None).id


def _file(store: MessageStore) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        kept = Path(tmp) / "f"
        kept.write_bytes(b"file")
        return store.record_received(partner="pbm-a", remote_path="/f", original_name="f",
                                     size=4, mtime=None, sha256=hashlib.sha256(b"file").hexdigest(),
                                     payload_path=kept).file.id


def sent(store: MessageStore) -> bytes:
    claim = store.claim("w1", 30)
    assert claim is not None
    with store.open_claimed(claim) as data:
        return data.read()


@pytest.mark.parametrize("size", [0, 1, 100_000, (1 << 20) - 40, 1 << 20, (5 << 20) // 2])
def test_a_claimed_payload_reads_back_whole_at_every_size(any_store, size):
    data = os.urandom(size)
    queued(any_store, data)
    assert sent(any_store) == data


def test_the_documents_payload_is_sent_when_the_delivery_has_none_of_its_own(any_store):
    queued(any_store, b"ST*835*0001~" * 1000, own=False)
    assert sent(any_store) == b"ST*835*0001~" * 1000


def test_a_delivery_with_nothing_stored_is_refused_naming_it(store):
    file_id = _file(store)
    doc = store.add_document(file_id, 0, kind="835", routing_keys={})
    delivery = store.enqueue(doc.id, destination="p", format="csv", output_name="p.csv")
    claim = store.claim("w1", 30)
    with pytest.raises(StoreError, match=f"document {doc.id} has a stored payload"):
        store.open_claimed(claim)
    assert claim.delivery.id == delivery.id


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every statement PostgreSQL connections run, by its first line (a spy: each still runs)."""
    seen: Counter[str] = Counter()
    one = PostgresConnection.one

    def counted(self: PostgresConnection, sql: str, params: object) -> object:
        seen[sql.strip().splitlines()[0]] += 1
        return one(self, sql, params)  # type: ignore[arg-type]

    monkeypatch.setattr(PostgresConnection, "one", counted)
    return seen


def test_on_postgres_a_payload_of_one_chunk_is_sent_without_a_query_of_its_own(
        pg_url, statements):
    from store_backends import empty_postgres

    empty_postgres(pg_url)
    with open_store(pg_url, keyring=SEALED) as store:
        queued(store, b"x" * 300_000, name="small")
        queued(store, os.urandom(3 << 20), name="large")  # 4 stored chunks
        statements.clear()
        for _ in range(2):
            claim = store.claim("w1", 30)
            with store.open_claimed(claim) as data:
                data.read()
    assert sum(statements.values()) == 2 + 3, statements  # two claims, large's chunks 1-3
    assert statements[CHUNK_READ] == 3


def test_a_tampered_first_chunk_read_by_the_claim_is_refused(pg_url):
    from store_backends import empty_postgres

    empty_postgres(pg_url)
    with open_store(pg_url, keyring=SEALED) as store:
        data = b"ST*835*0001~" * 10_000
        queued(store, data)
        with psycopg.connect(pg_url, autocommit=True) as db:
            db.execute("UPDATE payload_chunks SET data = set_byte(data, 100, "
                       "get_byte(data, 100) # 1) WHERE sha256 = %s",
                       (hashlib.sha256(data).hexdigest(),))
        with pytest.raises(SealBroken, match="segment 0 failed authentication"):
            sent(store)
