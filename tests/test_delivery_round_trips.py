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
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from gateway.config.retry_policy import RetryPolicies, RetryPolicy
from gateway.daemon.deliver import Attempt, DeliveryWorker, run_until_idle
from gateway.errors import StoreError
from gateway.store import DeliveryState, MessageStore, open_store
from gateway.store.crypt.keys import Keyring, new_key_text, parse_key
from gateway.store.crypt.stream import SealBroken
from gateway.store.postgres_connection import PostgresConnection
from gateway.transport.folder import FolderSink

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


# -- the ack and the next claim in one round trip ------------------------------------------------


def test_ack_and_claim_records_what_ack_does_and_claims_the_next(store):
    first, second = queued(store, b"one", name="p1"), queued(store, b"two", name="p2")
    claim = store.claim("w1", 30)
    acked, following = store.ack_and_claim(first, claim.token, output_sha256="1" * 64,
                                           location="/p1.835", worker="w1", lease_seconds=30)
    assert acked and following is not None
    assert (following.delivery.id, following.delivery.attempts) == (second, 1)
    assert following.delivery.state is DeliveryState.LEASED and following.token != claim.token
    done = store.get_delivery(first)
    assert (done.state, done.location, done.output_sha256) == (
        DeliveryState.DELIVERED, "/p1.835", "1" * 64)
    assert [(e.action, e.actor, e.reason) for e in store.events("delivery", first)][1:] == [
        ("delivered", "worker:w1", f"attempt 1: /p1.835 sha256 {'1' * 64}")]
    with store.open_claimed(following) as data:
        assert data.read() == b"two"
    assert store.ack_and_claim(second, following.token, output_sha256="2" * 64, location="/p2",
                               worker="w1", lease_seconds=30) == (True, None)


def test_a_stale_ack_with_the_claim_changes_nothing_and_says_so(store):
    delivery = queued(store, b"one")
    stale = store.claim("worker-1", 0.2)
    time.sleep(0.35)  # worker-1 stalls; its lease expires and worker-2 takes it over
    fresh = store.claim("worker-2", 30)
    acked, following = store.ack_and_claim(delivery, stale.token, output_sha256="0" * 64,
                                           location="/stale", worker="worker-1",
                                           lease_seconds=30)
    assert (acked, following) == (False, None)  # nothing else is due
    current = store.get_delivery(delivery)
    assert (current.state, current.leased_by, current.location) == (
        DeliveryState.LEASED, "worker-2", None)
    assert "delivered" not in [e.action for e in store.events("delivery", delivery)]
    assert store.ack_and_claim(delivery, fresh.token, output_sha256="1" * 64, location="/fresh",
                               worker="worker-2", lease_seconds=30) == (True, None)


def test_the_delivery_acknowledged_is_never_the_one_claimed(store):
    delivery = queued(store, b"one")
    late = store.claim("w1", 0.2)
    time.sleep(0.35)  # its own lease expired, nobody took it: the ack still holds
    assert store.ack_and_claim(delivery, late.token, output_sha256="1" * 64, location="/p1",
                               worker="w1", lease_seconds=30) == (True, None)
    assert store.get_delivery(delivery).state is DeliveryState.DELIVERED


def test_a_worker_on_postgres_sends_each_delivery_with_one_statement(pg_url, statements,
                                                                      tmp_path):
    from store_backends import empty_postgres

    empty_postgres(pg_url)
    with open_store(pg_url, keyring=SEALED) as store:
        payloads = {f"p{n}": os.urandom(50_000 + n) for n in range(5)}
        for name, data in payloads.items():
            queued(store, data, name=name)
        worker = DeliveryWorker(store, lambda _d: FolderSink(tmp_path), worker_id="w1")
        statements.clear()
        outcomes = run_until_idle(worker)
        worker.close()
        assert [o.state for o in outcomes] == [Attempt.DELIVERED] * 5
        # the first claim, one ack-and-claim per delivery, the claim that finds nothing
        assert sum(statements.values()) == 1 + 5 + 1, statements
        assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == {
            f"{name}.835": data for name, data in payloads.items()}
        assert {d.state for d in store.list_deliveries()} == {DeliveryState.DELIVERED}


def test_a_worker_told_to_stop_delivers_the_claim_in_hand_and_leaves_the_rest(store, tmp_path):
    for n in range(4):
        queued(store, b"remit %d" % n, name=f"p{n}")
    worker = DeliveryWorker(store, lambda _d: FolderSink(tmp_path), worker_id="w1")
    assert run_until_idle(worker, limit=1)[0].state is Attempt.DELIVERED
    assert not worker.holding  # the last call of a limited run claims nothing more
    worker.run_once(more=True)
    assert worker.holding
    stop = threading.Event()
    stop.set()
    worker.run(stop)  # stopped before it starts: only the delivery in hand
    states = Counter(d.state for d in store.list_deliveries())
    assert states == {DeliveryState.DELIVERED: 3, DeliveryState.PENDING: 1}


def test_racing_workers_with_expiring_leases_ack_each_delivery_once(store_url):
    """Leases shorter than the work: deliveries are taken over while their first holder
    still writes; every stale ack is fenced out, none deadlocks, each is delivered once."""
    with open_store(store_url) as setup:
        ids = [queued(setup, b"remit %d" % n, name=f"p{n}") for n in range(40)]
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            with open_store(store_url) as mine:
                claim = None
                while claim is not None or len(mine.list_deliveries(
                        state=DeliveryState.DELIVERED)) < len(ids):
                    claim = claim or mine.claim(name, 0.05)
                    if claim is None:
                        time.sleep(0.01)  # some lease may yet expire: take it over
                        continue
                    first, delivery = claim.delivery.attempts == 1, claim.delivery.id
                    time.sleep(0.15 if first and delivery % 5 == 0 else 0.002)
                    claim = mine.ack_and_claim(delivery, claim.token, output_sha256="1" * 64,
                                               location=f"/{name}", worker=name,
                                               lease_seconds=0.05)[1]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with open_store(store_url) as check:
        assert sum(check.get_delivery(d).attempts > 1 for d in ids) >= 2  # taken over
        for delivery in ids:
            actions = [e.action for e in check.events("delivery", delivery)]
            assert actions.count("delivered") == 1, actions
            assert check.get_delivery(delivery).state is DeliveryState.DELIVERED


def test_a_claim_taken_with_the_ack_and_given_up_is_no_longer_kept_alive(store, tmp_path):
    queued(store, b"one", name="p1")
    too_old = queued(store, b"two", name="p2")
    policies = RetryPolicies(per_destination={"p2": RetryPolicy(max_age=timedelta(0))})
    worker = DeliveryWorker(store, lambda _d: FolderSink(tmp_path), policies=policies,
                            worker_id="w1", lease_seconds=0.3)
    beats: list[int] = []
    beat = store.heartbeat

    def counted(delivery_id: int, token: str, lease_seconds: float) -> None:
        beats.append(delivery_id)
        beat(delivery_id, token, lease_seconds)

    store.heartbeat = counted  # type: ignore[method-assign]  # a spy: the real one runs
    try:
        assert worker.run_once(more=True).state is Attempt.DELIVERED  # and claims p2
        assert worker.run_once(more=True).state is Attempt.DEAD  # too old: given up
        time.sleep(0.35)  # three beats' time
    finally:
        worker.close()
    assert store.get_delivery(too_old).state is DeliveryState.DEAD
    assert too_old not in beats
