"""The duplicate-payment registry (migration 009) on SQLite and PostgreSQL: the first set to
claim a key owns it, a redo finds itself the owner, another set (same file or another file)
finds the first, and a quarantined file gives its keys up."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor

import pytest

from gateway.store import open_store
from gateway.store.payment_keys import KeyOwner


def received(store, tmp_path, n: int) -> int:
    payload = tmp_path / f"in-{n}.835"
    payload.write_bytes(f"ISA file {n}".encode())
    sha = hashlib.sha256(payload.read_bytes()).hexdigest()
    return store.record_received(partner="pbm-a", remote_path=f"/out/{n}",
                                 original_name=f"{n}.835", size=payload.stat().st_size,
                                 mtime=None, sha256=sha, payload_path=payload).file.id


def test_the_first_set_owns_a_key_and_a_redo_changes_nothing(store, tmp_path):
    one, two = received(store, tmp_path, 1), received(store, tmp_path, 2)
    claim = store.payments.claim
    assert claim("pbm-a", "payment", "T1+P+10.00+2026-01-05", file_id=one,
                 owner_set="0:1:1:0001:0") == KeyOwner(one, "0:1:1:0001:0")
    assert claim("pbm-a", "payment", "T1+P+10.00+2026-01-05", file_id=one,
                 owner_set="0:1:1:0001:0") == KeyOwner(one, "0:1:1:0001:0")  # a redo
    assert claim("pbm-a", "payment", "T1+P+10.00+2026-01-05", file_id=one,
                 owner_set="1:1:1:0001:1") == KeyOwner(one, "0:1:1:0001:0")  # same file
    assert claim("pbm-a", "payment", "T1+P+10.00+2026-01-05", file_id=two,
                 owner_set="0:1:1:0001:0") == KeyOwner(one, "0:1:1:0001:0")  # a later file
    # another partner, or the interchange kind, is another key
    assert claim("pbm-b", "payment", "T1+P+10.00+2026-01-05", file_id=two,
                 owner_set="x").file_id == two
    assert claim("pbm-a", "interchange", "T1+P+10.00+2026-01-05", file_id=two,
                 owner_set="x").file_id == two
    with pytest.raises(ValueError):
        claim("pbm-a", "trace", "v", file_id=one, owner_set="x")


def test_a_quarantined_file_gives_its_keys_up(store, tmp_path):
    one, two = received(store, tmp_path, 1), received(store, tmp_path, 2)
    store.payments.claim("pbm-a", "interchange", "PBM+000000101", file_id=one, owner_set="0")
    store.payments.forget_file(one)
    assert store.payments.claim("pbm-a", "interchange", "PBM+000000101", file_id=two,
                                owner_set="0") == KeyOwner(two, "0")


def test_two_daemons_claiming_at_once_agree_on_one_owner(store_url, tmp_path):
    with open_store(store_url) as first:
        files = [received(first, tmp_path, n) for n in range(8)]

    def claim(file_id: int) -> KeyOwner:
        with open_store(store_url) as mine:
            return mine.payments.claim("pbm-a", "payment", "SAME", file_id=file_id,
                                       owner_set="0")

    with ThreadPoolExecutor(4) as pool:
        owners = set(pool.map(claim, files))
    assert len(owners) == 1
