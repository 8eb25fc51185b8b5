"""Receiving files into the message store (both back ends): kept, recorded, never doubled."""

from __future__ import annotations

import hashlib
import io
import time
from pathlib import Path

import pytest

from gateway.errors import StoreError
from gateway.store import FileStatus, MessageStore, NotFound, open_store


def receive(
    store: MessageStore,
    tmp_path: Path,
    data: bytes,
    *,
    partner: str = "pbm-a",
    name: str = "ERA_0001.835",
):
    path = tmp_path / f"fetched-{hashlib.sha256(data).hexdigest()[:8]}"
    path.write_bytes(data)
    return store.record_received(
        partner=partner,
        remote_path=f"/outbound/{name}",
        original_name=name,
        size=len(data),
        mtime=1_700_000_000.0,
        sha256=hashlib.sha256(data).hexdigest(),
        payload_path=path,
    )


def test_a_received_file_is_recorded_and_its_bytes_kept_unchanged(store, tmp_path):
    data = b"ISA*00*          *00*...~" * 100
    receipt = receive(store, tmp_path, data)
    assert not receipt.duplicate
    recorded = store.get_file(receipt.file.id)
    assert recorded.status is FileStatus.RECEIVED
    assert (recorded.partner, recorded.original_name, recorded.size) == (
        "pbm-a",
        "ERA_0001.835",
        len(data),
    )
    assert recorded.mtime is not None and recorded.mtime.timestamp() == 1_700_000_000.0
    with store.open_payload(recorded.sha256) as payload:
        assert payload.read() == data
    assert [e.action for e in store.events("file", recorded.id)] == ["received"]


def test_a_duplicate_from_the_same_partner_is_detected_and_not_processed(store, tmp_path):
    data = b"the same remittance, pulled twice"
    first = receive(store, tmp_path, data)
    again = receive(store, tmp_path, data, name="ERA_0001_resent.835")
    assert again.duplicate
    assert again.file.id != first.file.id
    assert again.file.duplicate_of == first.file.id
    assert again.file.status is FileStatus.DUPLICATE
    (event,) = store.events("file", again.file.id)
    assert event.action == "duplicate" and f"file {first.file.id}" in event.reason
    # Waiting work lists only the first copy.
    assert [f.id for f in store.list_files(status=FileStatus.RECEIVED)] == [first.file.id]
    # The same bytes from another partner are that partner's own file.
    other = receive(store, tmp_path, data, partner="pbm-b")
    assert not other.duplicate


def test_a_fetched_file_that_does_not_match_its_hash_is_refused(store, tmp_path):
    path = tmp_path / "fetched"
    path.write_bytes(b"actual bytes")
    with pytest.raises(StoreError, match="fetch the file again"):
        store.record_received(
            partner="pbm-a",
            remote_path="/x",
            original_name="x",
            size=12,
            mtime=None,
            sha256=hashlib.sha256(b"other bytes").hexdigest(),
            payload_path=path,
        )
    assert store.list_files() == []


def test_quarantine_keeps_the_reason_and_an_event(store, tmp_path):
    file_id = receive(store, tmp_path, b"not an 835").file.id
    quarantined = store.set_file_status(
        file_id, FileStatus.QUARANTINED, actor="parser", reason="no ISA header at byte 0"
    )
    assert quarantined.error == "no ISA header at byte 0"
    assert [e.action for e in store.events("file", file_id)] == ["received", "quarantined"]
    with pytest.raises(NotFound):
        store.set_file_status(999, FileStatus.PARSED, actor="parser")


def test_documents_are_recorded_once_per_position_and_found_by_routing_key(store, tmp_path):
    file_id = receive(store, tmp_path, b"central pay 835").file.id
    split = store.put_payload(io.BytesIO(b"ST*835*0001~...~SE*20*0001~"))
    first = store.add_document(
        file_id,
        0,
        kind="835",
        routing_keys={"payee_npi": "1234567893", "tin": "123456789"},
        source_start=3,
        source_end=22,
        payload_sha256=split,
    )
    again = store.add_document(file_id, 0, kind="835", routing_keys={"payee_npi": "999"})
    assert again == first  # the router ran twice: still one document
    second = store.add_document(file_id, 1, kind="835", routing_keys={"payee_npi": "1111111111"})
    assert [d.id for d in store.documents_of_file(file_id)] == [first.id, second.id]
    assert [d.id for d in store.documents_with_key("1234567893")] == [first.id]
    assert store.get_document(first.id).routing_keys == {
        "payee_npi": "1234567893",
        "tin": "123456789",
    }
    assert (first.source_start, first.source_end, first.payload_sha256) == (3, 22, split)


def test_payloads_are_content_addressed(store):
    sha = store.put_payload(io.BytesIO(b"x" * 3_000_000))
    assert sha == hashlib.sha256(b"x" * 3_000_000).hexdigest()
    assert store.put_payload(io.BytesIO(b"x" * 3_000_000)) == sha
    with store.open_payload(sha) as payload:
        assert payload.read() == b"x" * 3_000_000
    with pytest.raises(StoreError):
        store.open_payload("0" * 64).__enter__().read()


def test_migrations_are_recorded_and_applied_once(store_url):
    with open_store(store_url) as first:
        version = first.migrate()
    with open_store(store_url) as second:
        assert second.migrate() == version >= 1


def test_only_one_daemon_holds_a_partners_poll_lease(store):
    assert store.acquire_poll_lease("pbm-a", "daemon-1", 0.5)
    assert not store.acquire_poll_lease("pbm-a", "daemon-2", 0.5)
    assert store.acquire_poll_lease("pbm-b", "daemon-2", 0.5)  # another partner is free
    assert store.renew_poll_lease("pbm-a", "daemon-1", 0.5)
    assert not store.renew_poll_lease("pbm-a", "daemon-2", 0.5)
    time.sleep(0.7)  # daemon-1 stopped renewing: its lease runs out
    assert store.acquire_poll_lease("pbm-a", "daemon-2", 30)
    assert not store.renew_poll_lease("pbm-a", "daemon-1", 30)
    store.release_poll_lease("pbm-a", "daemon-1")  # not the holder: changes nothing
    assert not store.acquire_poll_lease("pbm-a", "daemon-1", 30)
    store.release_poll_lease("pbm-a", "daemon-2")
    assert store.acquire_poll_lease("pbm-a", "daemon-1", 30)
