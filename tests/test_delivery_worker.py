"""The delivery worker (both back ends) against real folder sinks: deliver, retry, dead letter."""

from __future__ import annotations

import hashlib
import io
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from gateway.daemon.deliver import DeliveryWorker, run_until_idle
from gateway.errors import TransportError
from gateway.store import DeliveryState, RetryPolicies, RetryPolicy, open_store
from gateway.transport.base import Delivered
from gateway.transport.folder import FolderSink

FAST = RetryPolicies(RetryPolicy(max_attempts=3, base_delay=0.0, max_delay=0.0))


def queue_one(store, data: bytes = b"ST*835*0001~SE*2*0001~", destination: str = "pharmacy-1"):
    sha = store.put_payload(io.BytesIO(data))
    path_sha = hashlib.sha256(b"file").hexdigest()
    file_id = store.list_files()[0].id if store.list_files() else _file(store, path_sha)
    doc = store.add_document(
        file_id,
        len(store.documents_of_file(file_id)),
        kind="835",
        routing_keys={"payee_npi": "1234567893"},
        payload_sha256=sha,
    )
    return store.enqueue(
        doc.id,
        destination=destination,
        format="835",
        output_name=f"{destination}-remit-{doc.id}.835",
    )


def _file(store, sha: str) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f"
        path.write_bytes(b"file")
        return store.record_received(
            partner="pbm-a",
            remote_path="/f",
            original_name="f",
            size=4,
            mtime=None,
            sha256=sha,
            payload_path=path,
        ).file.id


class FlakySink:
    """A real FolderSink behind a link that fails the first ``failures`` writes."""

    def __init__(self, directory: Path, failures: int, error: Exception, delay: float = 0.0):
        self.inner = FolderSink(directory)
        self.failures, self.error, self.delay = failures, error, delay
        self.calls = 0

    def deliver(self, name: str, data: BinaryIO) -> Delivered:
        self.calls += 1
        time.sleep(self.delay)
        if self.calls <= self.failures:
            data.read(10)  # a partial transfer before the link drops
            raise self.error
        return self.inner.deliver(name, data)

    def close(self) -> None:
        pass


def test_a_delivery_lands_under_its_name_byte_identical_and_is_acked(store, tmp_path):
    data = b"ISA*00*...~" * 500
    delivery = queue_one(store, data)
    worker = DeliveryWorker(store, lambda d: FolderSink(tmp_path / d), worker_id="w1")
    (outcome,) = run_until_idle(worker)
    assert outcome.state == "delivered"
    target = tmp_path / "pharmacy-1" / delivery.output_name
    assert target.read_bytes() == data
    done = store.get_delivery(delivery.id)
    assert done.state is DeliveryState.DELIVERED
    assert (done.output_sha256, done.location) == (hashlib.sha256(data).hexdigest(), str(target))


def test_transient_errors_are_retried_within_the_attempt(store, tmp_path):
    delivery = queue_one(store)
    sink = FlakySink(tmp_path, 2, TransportError("connection reset", permanent=False))
    worker = DeliveryWorker(store, lambda d: sink, worker_id="w1", lease_seconds=0.3)
    (outcome,) = run_until_idle(worker)
    assert outcome.state == "delivered" and sink.calls == 3
    assert store.get_delivery(delivery.id).attempts == 1


def test_failures_back_off_then_go_dead(store, tmp_path):
    delivery = queue_one(store)
    sink = FlakySink(tmp_path, 99, OSError("disk full"))
    worker = DeliveryWorker(store, lambda d: sink, policies=FAST, worker_id="w1")
    outcomes = run_until_idle(worker)
    assert [o.state for o in outcomes] == ["failed", "failed", "dead"]
    dead = store.get_delivery(delivery.id)
    assert dead.state is DeliveryState.DEAD and "disk full" in dead.last_error
    assert not list(tmp_path.glob("*.835"))


def test_a_permanent_error_is_dead_at_once(store, tmp_path):
    delivery = queue_one(store)
    sink = FlakySink(tmp_path, 99, TransportError("permission denied", permanent=True))
    worker = DeliveryWorker(store, lambda d: sink, worker_id="w1")
    assert [o.state for o in run_until_idle(worker)] == ["dead"]
    assert sink.calls == 1
    assert store.get_delivery(delivery.id).state is DeliveryState.DEAD


def test_a_delivery_whose_workers_keep_dying_is_given_up(store, tmp_path):
    delivery = queue_one(store)
    for _ in range(3):  # three workers claimed it and died without a word
        store.claim("doomed", 0.01)
        time.sleep(0.02)
    worker = DeliveryWorker(store, lambda d: FolderSink(tmp_path), policies=FAST, worker_id="w1")
    (outcome,) = run_until_idle(worker)
    assert outcome.state == "dead" and "gave up after 3 attempts" in outcome.detail
    assert store.get_delivery(delivery.id).state is DeliveryState.DEAD


def test_too_old_a_delivery_goes_dead_instead_of_retrying(store, tmp_path):
    queue_one(store)
    policies = RetryPolicies(RetryPolicy(max_age=timedelta(0)))
    worker = DeliveryWorker(store, lambda d: FolderSink(tmp_path), policies=policies)
    assert [o.state for o in run_until_idle(worker)] == ["dead"]


def test_the_heartbeat_keeps_a_slow_transfer_leased(store, store_url, tmp_path):
    delivery = queue_one(store)
    sink = FlakySink(tmp_path, 0, OSError("unused"), delay=1.5)  # three lease lengths
    worker = DeliveryWorker(store, lambda d: sink, worker_id="slow", lease_seconds=0.5)
    outcomes = []
    slow = threading.Thread(target=lambda: outcomes.extend(run_until_idle(worker)))
    slow.start()
    with open_store(store_url, migrate=False) as other:
        while other.get_delivery(delivery.id).state is not DeliveryState.LEASED:
            time.sleep(0.01)
        stolen = []
        while slow.is_alive():  # another worker keeps trying to take it during the transfer
            if (claim := other.claim("thief", 0.5)) is not None:
                stolen.append(claim)
            time.sleep(0.05)
    slow.join()
    assert stolen == [] and [o.state for o in outcomes] == ["delivered"]
    assert store.get_delivery(delivery.id).attempts == 1


def test_a_dead_delivery_retried_by_an_operator_is_delivered(store, tmp_path):
    delivery = queue_one(store)
    sink = FlakySink(tmp_path, 1, TransportError("host key mismatch", permanent=True))
    worker = DeliveryWorker(store, lambda d: sink, worker_id="w1")
    assert [o.state for o in run_until_idle(worker)] == ["dead"]
    store.retry(delivery.id, actor="operator:ann", reason="host key re-pinned")
    assert [o.state for o in run_until_idle(worker)] == ["delivered"]
    assert (tmp_path / delivery.output_name).exists()
