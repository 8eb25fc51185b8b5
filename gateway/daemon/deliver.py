"""The guaranteed-delivery worker: claim, render, write atomically, ack — or retry, or dead.

One worker handles one delivery at a time; the daemon runs a pool of them (threads sharing a
store, or processes with a store each). The walk of one delivery:

1. **Claim** the next due delivery with a lease (a token and an expiry) — see MessageStore.
2. **Heartbeat**: a background thread extends the lease every third of its length while the
   transfer runs, so a slow SFTP upload keeps its lease and a dead worker loses it quickly.
3. **Write** the bytes through the destination's Sink under the delivery's deterministic
   ``output_name`` (temp name + rename). A transient transport error (reset, timeout) is
   retried a few times *inside* the attempt with tenacity.
4. **Ack**, fenced by the lease token. If the lease was lost meanwhile, the ack changes nothing
   and another worker redoes the delivery — overwriting the same name, never duplicating it.
   A worker that goes on claims its next delivery with the ack, in the same store round trip
   (and, on PostgreSQL, the same statement), so a delivery costs one round trip, not two.
5. On an error, **fail** with the retry policy's backoff, or **dead** past its limits.

A worker killed anywhere in this walk leaves at most a hidden temp file and an expiring lease;
nothing is lost and nothing is doubled.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, BinaryIO

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from gateway.config.retry_policy import RetryPolicies
from gateway.errors import ConfigError, InputError, TransportError
from gateway.log import get_logger
from gateway.store.base import MessageStore
from gateway.store.errors import LeaseLost
from gateway.store.models import Claim
from gateway.transport.base import Delivered, Sink

SinkFor = Callable[[str], Sink]
"""destination -> its Sink. The resolver owns the sinks (it may cache connections); the
worker never closes them."""

Render = Callable[[Claim], AbstractContextManager[BinaryIO]]
"""claimed delivery -> the bytes to write, as a context manager (called again for each try).
The default, ``MessageStore.open_claimed``: its stored payload, as far as the claim read it
along (PostgreSQL: a payload of one chunk needs no query of its own)."""

_ERROR_LENGTH = 500


class Attempt(StrEnum):
    """How one delivery attempt ended (the store's state after it, or ``lease-lost``)."""

    DELIVERED = "delivered"
    FAILED = "failed"  # retried later
    DEAD = "dead"  # given up: the dead letter
    LEASE_LOST = "lease-lost"  # another worker took over; it redoes the delivery


@dataclass(frozen=True)
class Outcome:
    """What one :meth:`DeliveryWorker.run_once` did to one delivery."""

    delivery_id: int
    state: Attempt
    detail: str = ""
    destination: str = ""  # for the metrics, so counting needs no store call


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_native_id()}"


def is_transient(exc: BaseException) -> bool:
    """Worth retrying within the same attempt (seconds later, same lease)."""
    if isinstance(exc, TransportError):
        return not exc.permanent
    return isinstance(exc, ConnectionError | TimeoutError)


def is_permanent(exc: BaseException) -> bool:
    """Retrying later cannot help: straight to the dead letter state — bad content, a
    destination the configuration does not know (ConfigError: an operator corrects it and
    retries the dead letter), a transport refusal."""
    return isinstance(exc, InputError | ConfigError) or (
        isinstance(exc, TransportError) and exc.permanent)


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:_ERROR_LENGTH]


class _Heartbeat:
    """One thread per worker that extends the lease of whatever delivery the worker holds.

    It beats every third of the lease, so a held lease is renewed at least twice before it
    could expire. One long-lived thread rather than one per delivery: starting a thread costs
    milliseconds on a busy machine, more than a whole claim + ack. The lock makes "stop
    holding" wait for a beat in flight, so a beat never lands after the ack.
    """

    def __init__(self, store: MessageStore, lease_seconds: float, log: Any) -> None:
        self._store, self._lease, self._log = store, lease_seconds, log
        self._lock = threading.Lock()
        self._claim: Claim | None = None
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, claim: Claim) -> None:
        with self._lock:
            self._claim = claim
        if self._thread is None:
            self._thread = threading.Thread(target=self._beat, name="lease-heartbeat", daemon=True)
            self._thread.start()

    def let_go(self) -> None:
        with self._lock:
            self._claim = None

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _beat(self) -> None:
        while not self._stopped.wait(self._lease / 3):
            with self._lock:
                if self._claim is None:
                    continue
                delivery_id = self._claim.delivery.id
                try:
                    self._store.heartbeat(delivery_id, self._claim.token, self._lease)
                except LeaseLost:
                    self._claim = None
                    self._log.warning("lease lost while delivering", delivery_id=delivery_id)
                except Exception as exc:  # the store is briefly unavailable: next beat
                    self._log.warning(
                        "heartbeat failed", delivery_id=delivery_id, error=describe(exc)
                    )


class DeliveryWorker:
    """Delivers queued deliveries one at a time until told to stop."""

    def __init__(
        self,
        store: MessageStore,
        sinks: SinkFor,
        *,
        render: Render | None = None,
        policies: RetryPolicies | None = None,
        worker_id: str | None = None,
        lease_seconds: float = 60.0,
        tries_per_attempt: int = 3,
    ) -> None:
        self.store = store
        self.sinks = sinks
        self.render = render or store.open_claimed
        self.policies = policies or RetryPolicies()
        self.worker_id = worker_id or default_worker_id()
        self.lease_seconds = lease_seconds
        self.tries_per_attempt = tries_per_attempt
        self.log = get_logger(worker=self.worker_id)
        self._heartbeat = _Heartbeat(store, lease_seconds, self.log)
        self._next: Claim | None = None  # claimed by the last ack, settled by the next call

    def run(self, stop: threading.Event, *, idle_seconds: float = 1.0) -> None:
        """Deliver until ``stop`` is set; sleep ``idle_seconds`` when nothing is due.

        A store error (database restarting) is logged and waited out, never fatal."""
        try:
            self._run(stop, idle_seconds)
        finally:
            self.close()

    def close(self) -> None:
        """Stop the heartbeat thread (the store and the sinks belong to the caller)."""
        self._heartbeat.stop()

    @property
    def holding(self) -> bool:
        """Whether the last ack claimed a delivery this worker has not settled yet: a loop
        that stops calls :meth:`run_once` once more (without ``more``) to deliver it."""
        return self._next is not None

    def _run(self, stop: threading.Event, idle_seconds: float) -> None:
        while not stop.is_set() or self.holding:
            try:
                outcome = self.run_once(more=not stop.is_set())
            except Exception as exc:
                self.log.error("delivery worker error", error=describe(exc))
                stop.wait(idle_seconds)
                continue
            if outcome is None:
                stop.wait(idle_seconds)

    def run_once(self, *, more: bool = False) -> Outcome | None:
        """Settle one due delivery — the one the last ack claimed, else a new claim; None
        when nothing is due.

        ``more``: the caller will call again, so the ack of a delivery written claims the
        next one in the same store round trip (:meth:`MessageStore.ack_and_claim`); this
        worker holds it — its lease kept alive by the heartbeat — until that call."""
        claim, self._next = self._next, None
        if claim is None:
            claim = self.store.claim(self.worker_id, self.lease_seconds)
        if claim is None:
            return None
        delivery = claim.delivery
        policy = self.policies.for_destination(delivery.destination)
        age = datetime.now(UTC) - delivery.enqueued_at
        if policy.exhausted(delivery.attempts, age):
            # Earlier attempts died with their workers (nobody recorded a failure).
            self._heartbeat.let_go()  # held since the ack that claimed it, if one did
            return self._fail(claim, f"gave up after {delivery.attempts - 1} attempts", None)
        self._heartbeat.hold(claim)
        try:
            delivered = self._write(claim)
        except Exception as exc:
            retry_in = policy.next_retry(delivery.attempts, age, permanent=is_permanent(exc))
            return self._fail(claim, describe(exc), retry_in)
        finally:
            self._heartbeat.let_go()
        if not self._ack(claim, delivered, more):
            self.log.warning("ack refused: lease lost", delivery_id=delivery.id)
            return Outcome(delivery.id, Attempt.LEASE_LOST, "another worker redoes it",
                           delivery.destination)
        self.log.info(
            "delivered",
            delivery_id=delivery.id,
            destination=delivery.destination,
            attempts=delivery.attempts,
            size=delivered.size,
            sha256=delivered.sha256,
        )
        return Outcome(delivery.id, Attempt.DELIVERED, delivered.location, delivery.destination)

    def _ack(self, claim: Claim, delivered: Delivered, more: bool) -> bool:
        """Acknowledge (and with ``more`` claim the next one); False when the lease was lost."""
        delivery_id, token = claim.delivery.id, claim.token
        if not more:
            try:
                self.store.ack(delivery_id, token, output_sha256=delivered.sha256,
                               location=delivered.location)
            except LeaseLost:
                return False
            return True
        acked, self._next = self.store.ack_and_claim(
            delivery_id, token, output_sha256=delivered.sha256, location=delivered.location,
            worker=self.worker_id, lease_seconds=self.lease_seconds)
        if self._next is not None:
            self._heartbeat.hold(self._next)
        return acked

    def _write(self, claim: Claim) -> Delivered:
        """Render and write under the deterministic name, retrying transient errors briefly."""
        delivery = claim.delivery
        retrying = Retrying(
            retry=retry_if_exception(is_transient),
            stop=stop_after_attempt(self.tries_per_attempt),
            wait=wait_exponential(multiplier=0.5, max=min(10.0, self.lease_seconds / 3)),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                sink = self.sinks(delivery.destination)
                with self.render(claim) as data:
                    return sink.deliver(delivery.output_name, data)
        raise AssertionError("unreachable: tenacity reraises the last error")

    def _fail(self, claim: Claim, error: str, retry_in: float | None) -> Outcome:
        delivery = claim.delivery
        try:
            self.store.fail(delivery.id, claim.token, error=error, retry_in=retry_in)
        except LeaseLost:
            self.log.warning("failure not recorded: lease lost", delivery_id=delivery.id)
            return Outcome(delivery.id, Attempt.LEASE_LOST, error, delivery.destination)
        state = Attempt.DEAD if retry_in is None else Attempt.FAILED
        self.log.warning(
            f"delivery {state}",
            delivery_id=delivery.id,
            destination=delivery.destination,
            attempts=delivery.attempts,
            retry_in=None if retry_in is None else round(retry_in, 1),
            error=error,
        )
        return Outcome(delivery.id, state, error, delivery.destination)


def run_until_idle(worker: DeliveryWorker, *, limit: int | None = None) -> list[Outcome]:
    """Deliver everything due now, in this thread (tests, one-shot runs)."""
    outcomes: list[Outcome] = []
    while limit is None or len(outcomes) < limit:
        outcome = worker.run_once(more=limit is None or len(outcomes) + 1 < limit)
        if outcome is None:
            break
        outcomes.append(outcome)
    return outcomes


__all__ = [
    "Attempt",
    "DeliveryWorker",
    "Outcome",
    "Render",
    "SinkFor",
    "run_until_idle",
]
