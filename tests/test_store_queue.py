"""The delivery queue (both back ends): idempotent enqueue, leases with fencing, retry, dead
letter, held deliveries, operator retry and replay."""

from __future__ import annotations

import hashlib
import io
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from store_backends import empty_postgres

from gateway.errors import StoreError
from gateway.store import (
    DeliveryRequest,
    DeliveryState,
    LeaseLost,
    MessageStore,
    NotFound,
    open_store,
)


def document(store: MessageStore, ordinal: int = 0) -> int:
    """A received file's document with a stored payload, ready to enqueue."""
    payload = store.put_payload(io.BytesIO(b"remittance %d" % ordinal))
    file_id = store.list_files()[0].id if store.list_files() else None
    if file_id is None:
        file_id = _file(store)
    return store.add_document(
        file_id,
        ordinal,
        kind="835",
        routing_keys={"payee_npi": f"10000000{ordinal:02d}"},
        payload_sha256=payload,
    ).id


def _file(store: MessageStore) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f"
        path.write_bytes(b"central pay")
        return store.record_received(
            partner="pbm-a",
            remote_path="/f",
            original_name="f",
            size=11,
            mtime=None,
            sha256=hashlib.sha256(b"central pay").hexdigest(),
            payload_path=path,
        ).file.id


def enqueue(store: MessageStore, doc: int, destination: str = "pharmacy-1", **kw):
    return store.enqueue(
        doc, destination=destination, format="835", output_name=f"{destination}-{doc}.835", **kw
    )


def test_enqueue_is_idempotent(store):
    doc = document(store)
    first = enqueue(store, doc)
    again = enqueue(store, doc)
    assert again.id == first.id and first.state is DeliveryState.PENDING
    assert len(store.list_deliveries()) == 1
    assert [e.action for e in store.events("delivery", first.id)] == ["enqueued"]
    other = enqueue(store, doc, destination="pharmacy-2")
    assert other.id != first.id


def test_enqueue_many_is_one_transaction(store):
    doc = document(store)
    good = DeliveryRequest(doc, "pharmacy-1", "835", "a.835")
    with pytest.raises(NotFound):
        store.enqueue_many([good, DeliveryRequest(9999, "pharmacy-2", "835", "b.835")])
    assert store.list_deliveries() == []  # nothing half-done
    made = store.enqueue_many([good, DeliveryRequest(doc, "npi:1", "835", "c.835", hold="unknown")])
    assert [d.state for d in made] == [DeliveryState.PENDING, DeliveryState.HELD]
    assert store.enqueue_many([good])[0].id == made[0].id


def test_claim_takes_each_due_delivery_once_and_counts_the_attempt(store):
    doc = document(store)
    ids = [enqueue(store, doc, f"pharmacy-{n}").id for n in range(3)]
    claims = [store.claim("w1", 30) for _ in range(3)]
    assert [c.delivery.id for c in claims] == ids
    assert all(
        c.delivery.state is DeliveryState.LEASED and c.delivery.attempts == 1 for c in claims
    )
    assert len({c.token for c in claims}) == 3
    assert store.claim("w1", 30) is None  # every lease is still running


def test_a_stale_lease_changes_nothing_and_says_so(store):
    delivery = enqueue(store, document(store))
    stale = store.claim("worker-1", 0.2)
    time.sleep(0.35)  # worker-1 stalls; its lease expires
    fresh = store.claim("worker-2", 30)
    assert fresh.delivery.id == delivery.id and fresh.token != stale.token
    assert fresh.delivery.attempts == 2
    with pytest.raises(LeaseLost, match=f"delivery {delivery.id}"):
        store.ack(delivery.id, stale.token, output_sha256="0" * 64, location="/stale")
    with pytest.raises(LeaseLost):
        store.heartbeat(delivery.id, stale.token, 30)
    with pytest.raises(LeaseLost):
        store.fail(delivery.id, stale.token, error="boom", retry_in=None)
    current = store.get_delivery(delivery.id)
    assert (current.state, current.leased_by, current.location) == (
        DeliveryState.LEASED,
        "worker-2",
        None,
    )
    done = store.ack(delivery.id, fresh.token, output_sha256="1" * 64, location="/fresh")
    assert (done.state, done.location) == (DeliveryState.DELIVERED, "/fresh")
    actions = [(e.action, e.actor, e.reason) for e in store.events("delivery", delivery.id)]
    assert actions[1:] == [
        ("reclaimed", "worker:worker-2", "lease of worker-1 expired; attempt 2"),
        ("delivered", "worker:worker-2", f"attempt 2: /fresh sha256 {'1' * 64}"),
    ]


def test_heartbeat_keeps_the_lease(store):
    delivery = enqueue(store, document(store))
    claim = store.claim("w1", 0.3)
    for _ in range(3):
        time.sleep(0.15)
        store.heartbeat(delivery.id, claim.token, 0.3)
    assert store.claim("w2", 30) is None
    assert store.get_delivery(delivery.id).due_at > claim.expires_at


def test_failure_backs_off_then_dead_then_operator_retry(store):
    delivery = enqueue(store, document(store))
    claim = store.claim("w1", 30)
    failed = store.fail(delivery.id, claim.token, error="connection reset", retry_in=60)
    assert failed.state is DeliveryState.FAILED and failed.last_error == "connection reset"
    assert store.claim("w1", 30) is None  # not due for a minute
    with pytest.raises(StoreError, match="not dead or failed"):
        held = enqueue(store, delivery.document_id, "npi:1", hold="unknown member")
        store.retry(held.id, actor="operator:ann")
    retried = store.retry(delivery.id, actor="operator:ann", reason="partner back up")
    assert (retried.state, retried.attempts) == (DeliveryState.PENDING, 0)
    claim = store.claim("w1", 30)
    assert claim.delivery.id == delivery.id
    dead = store.fail(delivery.id, claim.token, error="permission denied", retry_in=None)
    assert dead.state is DeliveryState.DEAD and dead.due_at is None
    assert [d.id for d in store.list_deliveries(state=DeliveryState.DEAD)] == [delivery.id]
    assert store.retry_all_dead(actor="operator:ann") == 1
    assert store.get_delivery(delivery.id).state is DeliveryState.PENDING
    actions = [e.action for e in store.events("delivery", delivery.id)]
    assert actions == ["enqueued", "failed", "retried", "dead", "retried"]


def test_held_deliveries_are_visible_never_delivered_until_released(store):
    doc = document(store)
    held = enqueue(store, doc, "npi:1999999999", hold="payee NPI 1999999999 is not a member")
    assert held.state is DeliveryState.HELD
    assert store.claim("w1", 30) is None
    assert [d.id for d in store.list_deliveries(state=DeliveryState.HELD)] == [held.id]
    depth = {(d.state, d.destination): d.count for d in store.queue_depth()}
    assert depth == {(DeliveryState.HELD, "npi:1999999999"): 1}
    (event,) = store.events("delivery", held.id)
    assert (event.action, event.reason) == ("held", "payee NPI 1999999999 is not a member")
    released = store.release(held.id, destination="pharmacy-7", actor="operator:ann")
    assert (released.state, released.destination) == (DeliveryState.PENDING, "pharmacy-7")
    assert store.claim("w1", 30).delivery.id == held.id
    with pytest.raises(StoreError, match="not held"):
        store.release(held.id, actor="operator:ann")


def test_replay_requeues_every_delivery_of_a_file(store):
    doc_a, doc_b = document(store, 0), document(store, 1)
    for doc in (doc_a, doc_b):
        enqueue(store, doc)
        claim = store.claim("w1", 30)
        store.ack(claim.delivery.id, claim.token, output_sha256="2" * 64, location="/x")
    file_id = store.get_document(doc_a).file_id
    assert store.replay_file(file_id, actor="operator:ann", reason="pharmacy lost them") == 2
    assert {d.state for d in store.deliveries_of_file(file_id)} == {DeliveryState.PENDING}
    assert store.events("file", file_id)[-1].action == "replayed"


def test_concurrent_workers_never_take_the_same_delivery(store, store_url):
    doc = document(store)
    ids = {enqueue(store, doc, f"pharmacy-{n}").id for n in range(120)}
    acked: Counter[int] = Counter()
    lock = threading.Lock()

    def work(name: str) -> None:
        with open_store(store_url, migrate=False) as own:
            while (claim := own.claim(name, 30)) is not None:
                own.ack(claim.delivery.id, claim.token, output_sha256="3" * 64, location=name)
                with lock:
                    acked[claim.delivery.id] += 1

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(acked) == ids and set(acked.values()) == {1}


def test_a_lost_postgres_connection_is_reopened(pg_url):
    """PostgreSQL restarts (or a proxy drops idle connections): one call fails with a clear
    StoreError, the next one reconnects. The worker loop logs the first and carries on."""
    empty_postgres(pg_url)
    with open_store(pg_url) as store:
        delivery = enqueue(store, document(store))
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        with pytest.raises(StoreError, match="PostgreSQL failed"):
            store.claim("w1", 30)
        claim = store.claim("w1", 30)
        assert claim is not None and claim.delivery.id == delivery.id
