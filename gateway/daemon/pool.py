"""The delivery workers of a daemon: threads that drain the delivery queue.

Each worker has its own store connection and its own Sinks (an SFTP session is never shared
between threads) and loops claim → write → ack through
:class:`gateway.daemon.deliver.DeliveryWorker` — the guaranteed-delivery walk with leases,
heartbeats and fenced acks — counting what happens into the daemon's metrics. A store outage
is waited out with backoff and logged once for the whole daemon (:mod:`outages`), never
fatal to the worker; an unexpected error (a bug) logs its traceback once per streak.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from gateway.config.settings import Settings
from gateway.daemon.deliver import Attempt, DeliveryWorker, Outcome, describe
from gateway.daemon.metrics import Metrics
from gateway.daemon.outages import STORE, Outages, Subject, backoff
from gateway.daemon.runtime import Runtime, Sinks
from gateway.errors import StoreUnavailable
from gateway.log import get_logger
from gateway.store import open_configured
from gateway.store.base import MessageStore

IDLE_SECONDS = 1.0  # how long an idle worker waits before asking the queue again


class DeliveryPool:
    """The delivery workers: threads, each with its own store connection and Sinks.

    Each loops claim → write → ack (:class:`gateway.daemon.deliver.DeliveryWorker`) and counts the
    outcomes into the metrics. On stop a worker finishes the delivery in hand; :meth:`stop`
    waits for that up to a bound, after which the lease simply expires and the delivery is
    redone — under the same name — by whoever runs next.
    """

    def __init__(self, settings: Settings, *, runtime: Callable[[], Runtime], metrics: Metrics,
                 stopping: threading.Event, name: str, outages: Outages | None = None) -> None:
        """``runtime`` returns the current Runtime (it changes on SIGHUP); ``name`` prefixes
        the workers' ids (host:pid)."""
        self.settings = settings
        self.runtime = runtime
        self.metrics = metrics
        self.stopping = stopping
        self.name = name
        self.outages = outages or Outages()
        self.log = get_logger(component="delivery-pool")
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for n in range(self.settings.workers):
            thread = threading.Thread(target=self._work, args=(n,), name=f"deliver-{n}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)

    def drain(self) -> bool:
        """Deliver everything due now (``--once``) with the configured number of workers, as
        the daemon would (a cron run to 1,000 pharmacies waits on fsyncs and round trips, not
        on the CPU); False if an attempt failed. A worker's error is raised here."""
        workers = self.settings.workers
        with ThreadPoolExecutor(workers, thread_name_prefix="deliver-once") as threads:
            runs = [threads.submit(self._drain_as, f"once{n}") for n in range(workers)]
            return all([run.result() for run in runs])

    def _drain_as(self, name: str) -> bool:
        """One worker's share of :meth:`drain`: until the queue has nothing due."""
        worker, store, sinks = self._worker(name)
        all_good = True
        try:
            while not self.stopping.is_set() or worker.holding:
                outcome = worker.run_once(more=not self.stopping.is_set())
                if outcome is None:
                    break
                self._count(outcome)
                all_good &= outcome.state is Attempt.DELIVERED
        finally:
            worker.close()  # its heartbeat thread
            sinks.close()
            store.close()
        return all_good

    def stop(self, *, timeout: float) -> bool:
        """Wait for the workers to finish their delivery in hand; True when all did."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)

    def _work(self, n: int) -> None:
        worker, store, sinks = self._worker(f"w{n}")
        runtime = self.runtime()
        stopping = self.stopping
        try:
            while not stopping.is_set() or worker.holding:  # the delivery in hand, too
                if runtime is not self.runtime():  # reloaded: resolve sinks afresh
                    runtime = self.runtime()
                    sinks.close()
                    sinks = runtime.sinks()
                    worker.sinks = sinks
                try:
                    outcome = worker.run_once(more=not stopping.is_set())
                except StoreUnavailable as exc:  # the store restarting: wait it out, never die
                    stopping.wait(backoff(self.outages.failed(STORE, str(exc))))
                    continue
                except Exception as exc:  # a bug: its traceback once, then the same wait
                    errors = self.outages.failed(Subject.worker(n), describe(exc))
                    if errors.failures == 1:
                        self.log.exception("delivery worker error", error=describe(exc))
                    stopping.wait(backoff(errors))
                    continue
                self.outages.succeeded(STORE)
                self.outages.succeeded(Subject.worker(n))
                if outcome is None:
                    stopping.wait(IDLE_SECONDS / 2)
                else:
                    self._count(outcome)
        finally:
            worker.close()  # its heartbeat thread
            sinks.close()
            store.close()

    def _worker(self, name: str) -> tuple[DeliveryWorker, MessageStore, Sinks]:
        store = open_configured(self.settings, migrate=False)
        sinks = self.runtime().sinks()
        worker = DeliveryWorker(store, sinks, worker_id=f"{self.name}:{name}",
                                lease_seconds=self.settings.lease_seconds,
                                policies=self.settings.retry)
        return worker, store, sinks

    def _count(self, outcome: Outcome) -> None:
        """Count the outcome (no store call here: a store outage must not end the thread)."""
        destination = outcome.destination
        m = self.metrics
        if outcome.state is Attempt.DELIVERED:
            m.deliveries_done.labels(destination).inc()
        elif outcome.state is Attempt.FAILED:
            m.retries.labels(destination).inc()
        elif outcome.state is Attempt.DEAD:
            m.dead_letters.labels(destination).inc()
