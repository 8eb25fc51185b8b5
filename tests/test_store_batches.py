"""The route's batches (issue 13: fewer round trips per part): payloads put several to a
transaction (``payload_batch``) and a file's documents recorded at once (``add_documents``)
keep what one call each kept — the same keys and bytes, sealed or not, the same rows and
routing keys, the first row on a re-run — on both back ends."""

from __future__ import annotations

import io
import os

import pytest

from gateway.errors import StoreError
from gateway.store import open_store
from gateway.store.base import DocumentRequest
from gateway.store.crypt.keys import Keyring, new_key_text, parse_key
from gateway.store.postgres_payloads import STATEMENT_BYTES


def _payloads() -> list[bytes]:
    """Small parts, a repeat, and one past a batch's bytes (it goes on its own)."""
    small = [b"ISA*part %d~" % n + os.urandom(40_000) for n in range(70)]
    return [*small[:30], small[3], os.urandom(STATEMENT_BYTES + 5), *small[30:]]


class _OneWay(io.RawIOBase):
    """A stream that cannot be read twice (as the splitter's pieces are)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        return self._data.readinto(buffer)


@pytest.mark.parametrize("sealed", [False, True], ids=["plain", "sealed"])
def test_a_batch_of_payloads_keeps_what_one_put_each_keeps(store_url, sealed):
    keyring = Keyring(parse_key(new_key_text(), "test")) if sealed else None
    data = _payloads()
    with open_store(store_url, keyring=keyring) as store:
        kept_before = store.put_payload(io.BytesIO(data[5]))  # a part kept before the batch
        with store.payload_batch() as batch:
            keys = [batch.put_payload(io.BufferedReader(_OneWay(d))) for d in data]
        assert keys[5] == kept_before
        assert keys == [store.put_payload(io.BytesIO(d)) for d in data]  # nothing new
        for key, expected in zip(keys, data, strict=True):
            with store.open_payload(key) as stored:
                assert stored.read() == expected


def test_a_failed_batch_leaves_nothing_it_had_not_written(pg_url):
    from store_backends import empty_postgres

    empty_postgres(pg_url)
    with open_store(pg_url) as store:
        with pytest.raises(RuntimeError), store.payload_batch() as batch:
            key = batch.put_payload(io.BytesIO(b"ISA*never named~"))
            raise RuntimeError("the split failed")
        with pytest.raises(StoreError, match="not in the store"):
            store.open_payload(key)


def _requests(n: int) -> list[DocumentRequest]:
    return [DocumentRequest(i, "835-part", {"owner": f"o{i}", "npi": f"14{i:08d}",
                                            "amount": f"{i}.00"}, 100 * i, 100 * i + 99,
                            "ab" * 32) for i in range(n)]


def test_documents_recorded_at_once_are_those_recorded_one_by_one(store, tmp_path):
    path = tmp_path / "era.835"
    path.write_bytes(b"ISA*one~")
    first = store.record_received(partner="acme", remote_path="/in/one", original_name="one",
                                  size=8, mtime=None, sha256=_sha(path), payload_path=path)
    path.write_bytes(b"ISA*two~")
    second = store.record_received(partner="acme", remote_path="/in/two", original_name="two",
                                   size=8, mtime=None, sha256=_sha(path), payload_path=path)
    wanted = _requests(12)
    at_once = store.add_documents(first.file.id, wanted)
    one_by_one = [store.add_document(second.file.id, r.ordinal, kind=r.kind,
                                     routing_keys=r.routing_keys, source_start=r.source_start,
                                     source_end=r.source_end, payload_sha256=r.payload_sha256)
                  for r in wanted]

    def shape(documents):
        return [(d.ordinal, d.kind, d.routing_keys, d.source_start, d.source_end,
                 d.payload_sha256) for d in documents]

    assert shape(at_once) == shape(one_by_one) == shape(store.documents_of_file(first.file.id))
    assert [d.id for d in at_once] == sorted(d.id for d in at_once)  # in ordinal order
    assert [d.id for d in store.documents_with_key("1400000007")] == [
        one_by_one[7].id, at_once[7].id]
    # routed again, with a new part: the first rows stand, the new one follows
    again = store.add_documents(first.file.id, [*wanted[3:], *_requests(13)[12:]])
    assert [d.id for d in again[:-1]] == [d.id for d in at_once[3:]]
    assert again[-1].ordinal == 12 and again[-1].id > one_by_one[-1].id
    assert store.add_documents(first.file.id, []) == []


def _sha(path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
