"""Encryption at rest of the payload archive (issue 13, Security), on both back ends.

Real stores (SQLite + payload files, PostgreSQL bytea), real AES-GCM: the stored bytes never
hold a known synthetic segment, a large payload goes in and out in bounded memory, a flipped
byte or a wrong key is an error naming the payload and the key id, never other bytes, and a
rotation re-wraps the data keys so that the old key is no longer needed.
"""

from __future__ import annotations

import hashlib
import io
import tracemalloc
from pathlib import Path

import psycopg
import pytest

from gateway.errors import StoreError
from gateway.store import MessageStore, open_store
from gateway.store.crypt.keys import Kek, Keyring, new_key_text, parse_key
from gateway.store.crypt.stream import SEGMENT, SealBroken

MARKER = b"NM1*QC*1*SYNTHETIC*PATIENTNAME****MI*XYZ123456789~"


def kek() -> Kek:
    return parse_key(new_key_text(), "test")


def stored_bytes(store: MessageStore, sha256: str) -> bytes:
    """What the back end keeps for a payload, read past the store's own API."""
    if store.backend == "sqlite":
        return store.payloads.path_of(sha256).read_bytes()  # type: ignore[attr-defined]
    with psycopg.connect(store.url) as conn:  # type: ignore[attr-defined]
        rows = conn.execute("SELECT data FROM payload_chunks WHERE sha256 = %s ORDER BY seq",
                            (sha256,)).fetchall()
    return b"".join(bytes(row[0]) for row in rows)


def corrupt(store: MessageStore, sha256: str, offset: int) -> None:
    if store.backend == "sqlite":
        path = store.payloads.path_of(sha256)  # type: ignore[attr-defined]
        data = bytearray(path.read_bytes())
        data[offset] ^= 0x01
        path.write_bytes(bytes(data))
        return
    with psycopg.connect(store.url) as conn:  # type: ignore[attr-defined]
        row = conn.execute("SELECT data FROM payload_chunks WHERE sha256 = %s AND seq = 0",
                           (sha256,)).fetchone()
        data = bytearray(row[0])
        data[offset] ^= 0x01
        conn.execute("UPDATE payload_chunks SET data = %s WHERE sha256 = %s AND seq = 0",
                     (bytes(data), sha256))


def test_a_sealed_payload_never_holds_the_plaintext_and_reads_back(store_url):
    key = kek()
    data = b"ISA*00*~" + MARKER * 5000
    with open_store(store_url, keyring=Keyring(key)) as store:
        sha256 = store.put_payload(io.BytesIO(data))
        kept = stored_bytes(store, sha256)
        assert kept and MARKER not in kept and b"SYNTHETIC" not in kept
        with store.open_payload(sha256) as stream:
            assert stream.read() == data
        assert store.sealer.keys_in_use() == [(key.key_id, 1)]  # type: ignore[attr-defined]


def test_without_encryption_the_same_store_keeps_plaintext(store_url):
    """What today's main does for every payload (and what payloads = "off" does)."""
    with open_store(store_url) as store:
        sha256 = store.put_payload(io.BytesIO(MARKER * 10))
        assert MARKER in stored_bytes(store, sha256)


def test_a_payload_kept_before_encryption_stays_readable(store_url):
    data = MARKER * 100
    with open_store(store_url) as store:
        sha256 = store.put_payload(io.BytesIO(data))
    with open_store(store_url, keyring=Keyring(kek())) as store, \
            store.open_payload(sha256) as stream:
        assert stream.read() == data


class _Synthetic(io.RawIOBase):
    """``size`` bytes made on the fly (never held whole): the marker over and over."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer):  # type: ignore[no-untyped-def]
        count = min(len(buffer), self.left, 1 << 16)
        block = (MARKER * (count // len(MARKER) + 1))[:count]
        buffer[:count] = block
        self.left -= count
        return count


def test_a_large_payload_goes_in_and_out_in_bounded_memory(store_url):
    size = 48 * SEGMENT + 12345  # many segments and a short last one
    expected = hashlib.sha256()
    source = _Synthetic(size)
    while chunk := source.read(1 << 20):
        expected.update(chunk)
    with open_store(store_url, keyring=Keyring(kek())) as store:
        tracemalloc.start()
        try:
            sha256 = store.put_payload(_Synthetic(size))  # type: ignore[arg-type]
            _, put_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            got, read = hashlib.sha256(), 0
            with store.open_payload(sha256) as stream:
                while chunk := stream.read(1 << 20):
                    got.update(chunk)
                    read += len(chunk)
            _, get_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert sha256 == expected.hexdigest() == got.hexdigest() and read == size
    limit = 16 * SEGMENT  # the payload is 48 MiB; PostgreSQL spools up to 8 MiB in memory
    assert put_peak < limit and get_peak < limit, (put_peak, get_peak)


@pytest.mark.parametrize("offset", [10, 40, 1000])  # header, first segment, later in it
def test_a_tampered_payload_fails_authentication_and_gives_no_bytes(store_url, offset):
    with open_store(store_url, keyring=Keyring(kek())) as store:
        sha256 = store.put_payload(io.BytesIO(MARKER * 100))
        corrupt(store, sha256, offset)
        with pytest.raises(SealBroken) as broken, store.open_payload(sha256) as stream:
            stream.read()
    assert "restore" in str(broken.value)


def test_a_payload_under_another_name_fails(tmp_path: Path):
    """A sealed file copied over another's name (SQLite's files; PostgreSQL's rows are keyed
    by the hash): its header's blob id is not the one the envelope names."""
    store_url = f"sqlite:///{tmp_path}/gateway.db"
    with open_store(store_url, keyring=Keyring(kek())) as store:
        a = store.put_payload(io.BytesIO(MARKER * 3))
        b = store.put_payload(io.BytesIO(MARKER * 4))
        pa, pb = (store.payloads.path_of(s) for s in (a, b))  # type: ignore[attr-defined]
        pa.write_bytes(pb.read_bytes())
        with pytest.raises(SealBroken), store.open_payload(a) as stream:
            stream.read()


def test_a_wrong_or_missing_key_is_an_error_naming_the_key_id(store_url):
    right, wrong = kek(), kek()
    with open_store(store_url, keyring=Keyring(right)) as store:
        sha256 = store.put_payload(io.BytesIO(MARKER))
    with open_store(store_url, keyring=Keyring(wrong)) as store, \
            pytest.raises(StoreError) as refused:
        store.open_payload(sha256)
    text = str(refused.value)
    assert sha256 in text and right.key_id in text and wrong.key_id in text
    assert "previous_keys" in text
    with open_store(store_url) as store, pytest.raises(StoreError) as no_key:
        store.open_payload(sha256)
    assert right.key_id in str(no_key.value) and "--config" in str(no_key.value)


def test_rotation_rewraps_every_data_key_and_the_old_key_is_no_longer_needed(store_url):
    old, new = kek(), kek()
    payloads = {}
    with open_store(store_url, keyring=Keyring(old)) as store:
        for n in range(7):
            data = MARKER * (n + 1)
            payloads[store.put_payload(io.BytesIO(data))] = data
        before = {s: stored_bytes(store, s) for s in payloads}
    with open_store(store_url, keyring=Keyring(new, [old])) as store:
        progress = list(store.sealer.rewrap_all(batch=3))
        assert progress[-1] == 7 and len(progress) == 3  # committed batches of 3, 3, 1
        assert list(store.sealer.rewrap_all(batch=3)) == [0]
        assert store.sealer.keys_in_use() == [(new.key_id, 7)]  # type: ignore[attr-defined]
        assert {s: stored_bytes(store, s) for s in payloads} == before  # bodies untouched
    with open_store(store_url, keyring=Keyring(new)) as store:
        for sha256, data in payloads.items():
            with store.open_payload(sha256) as stream:
                assert stream.read() == data
    with open_store(store_url, keyring=Keyring(old)) as store, pytest.raises(StoreError) as gone:
        store.open_payload(next(iter(payloads)))
    assert new.key_id in str(gone.value)


def test_the_same_bytes_twice_are_kept_once_and_stay_readable(store_url, tmp_path: Path):
    with open_store(store_url, keyring=Keyring(kek())) as store:
        first = store.put_payload(io.BytesIO(MARKER * 9))
        again = store.put_payload(io.BytesIO(MARKER * 9))
        assert first == again
        with store.open_payload(first) as stream:
            assert stream.read() == MARKER * 9


def test_a_sealed_payload_is_read_by_offset_like_a_file(store_url):
    data = bytes(range(256)) * (3 * SEGMENT // 256) + b"tail"
    with open_store(store_url, keyring=Keyring(kek())) as store, \
            store.open_payload(store.put_payload(io.BytesIO(data))) as stream:
        for where in (0, 5, SEGMENT - 1, SEGMENT, 2 * SEGMENT + 7, len(data) - 2, len(data)):
            stream.seek(where)
            assert stream.read(9) == data[where:where + 9] and stream.tell() <= len(data)
        assert stream.seek(0, io.SEEK_END) == len(data)
        stream.seek(0)
        assert stream.read() == data


def test_a_sealing_store_opened_without_keys_writes_no_plaintext(store_url):
    with open_store(store_url, keyring=Keyring(kek())) as store:
        store.put_payload(io.BytesIO(MARKER))
    with open_store(store_url) as keyless, pytest.raises(StoreError, match="--config"):
        keyless.put_payload(io.BytesIO(MARKER * 2))
    with open_store(store_url, keyring=Keyring(None)) as off:  # payloads = "off", explicitly
        sha256 = off.put_payload(io.BytesIO(MARKER * 2))
        assert MARKER in stored_bytes(off, sha256)
