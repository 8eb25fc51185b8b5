"""``gateway run``: the daemon that PSAO IT operations keep running.

One process, a few threads, each with its own store connection:

* the **main loop** polls each partner when its schedule says so (interval, daily window),
  holding the partner's poll lease in the store so two daemons sharing a PostgreSQL store never
  pull the same remote file; then it parses and routes what was received (:mod:`pipeline`),
  checks SLA deadlines (:mod:`gateway.daemon.sla`), and waits a second before looking again
  (a poll is due when the partner's interval has passed inside its window);
* a **pool of delivery workers** claims due deliveries with a lease and writes them through
  the destination's Sink (:mod:`gateway.daemon.deliver`);
* an **HTTP thread** answers ``/healthz`` and ``/metrics``.

Signals: SIGTERM/SIGINT stop polling; workers finish the delivery in hand (its transfer is
bounded by the transport's timeouts) and the process exits 0 within ``shutdown_seconds``; work
still leased then is redone after its lease expires, under the same deterministic name.
SIGHUP reloads partners and members between cycles and polls every partner at once; a
configuration that does not load is refused — logged, recorded as a ``reload-refused`` event
(which the alerts read) and shown on ``/healthz`` as degraded until a reload succeeds — and
the running one kept.

Expected outages (the store down, a partner unreachable) are logged once when they begin and
once when they end (:mod:`gateway.daemon.outages`), and waited out with backoff. The alert
engine (:mod:`gateway.alerts.engine`) runs on the main loop every ``[alerts] check_seconds``.

``--once`` runs one full cycle — poll every partner (whatever its window), parse, route,
deliver everything due with the configured delivery workers — and exits, for cron and for
tests: 0 when every poll and delivery attempt succeeded and no file failed, 1 otherwise (the
failed deliveries stay queued for the next run; a failed file waits for ``gateway files
retry``). It opens no HTTP endpoint, so it can run beside a daemon.
"""

from __future__ import annotations

import gc
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from gateway.alerts.engine import AlertEngine
from gateway.config.encryption import require_a_choice
from gateway.config.problems import by_place
from gateway.config.settings import Settings
from gateway.daemon.health import DISK_LOW_BYTES, Health, HealthServer, degraded_reasons
from gateway.daemon.leases import held
from gateway.daemon.metrics import Metrics, QueueSnapshot, read_queue_snapshot
from gateway.daemon.outages import STORE, Outages, backoff
from gateway.daemon.pipeline import Pipeline
from gateway.daemon.pool import DeliveryPool
from gateway.daemon.reachability import Reachability
from gateway.daemon.receive import PollOutcome, Receiver
from gateway.daemon.runtime import PartnerRuntime, Runtime, build_runtime
from gateway.daemon.schedule import utc_now
from gateway.daemon.sla import SlaWatch
from gateway.errors import StoreUnavailable
from gateway.lifecycle.daily import prune_if_due
from gateway.lifecycle.sweep import remove_stale
from gateway.log import configure, get_logger
from gateway.store import open_configured
from gateway.store.base import MessageStore
from gateway.store.file_retry import retry_failed_files

EXIT_OK, EXIT_FAILED = 0, 1
IDLE_SECONDS = 1.0  # longest sleep of the main loop (how fast a stop or reload is noticed)
HEALTHY_WITHIN = 120.0  # seconds: a main loop silent for longer makes /healthz answer 503
STALE_TEMP_SECONDS = 3600.0  # a temp file in the work dir this old belongs to no live fetch


class Daemon:
    """Runs the gateway for one ``gateway.toml``."""

    def __init__(
        self,
        settings: Settings,
        *,
        runtime_factory: Callable[[Settings], Runtime] = build_runtime,
        shutdown_seconds: float = 30.0,
    ) -> None:
        self.settings = settings
        # Poll and file leases are held in the name of this installation on this host, so a
        # daemon restarted after a crash resumes its own leases at once instead of waiting them;
        # delivery workers are named per process (their leases are fenced by token anyway).
        self.holder = f"{socket.gethostname()}:{settings.path}"
        self.process_name = f"{socket.gethostname()}:{os.getpid()}"
        self.shutdown_seconds = shutdown_seconds
        self.stopping = threading.Event()
        self._reload = threading.Event()
        self._runtime_factory = runtime_factory
        self.log = get_logger(component="daemon", process=self.process_name)
        self.outages = Outages()
        self.reachability = Reachability(self.outages, settings.alerts.unreachable_polls)
        self.alerts = AlertEngine(settings.alerts, holder=self.holder)
        self.reload_refused: str | None = None  # why the last SIGHUP was refused
        self.disk_low_bytes = DISK_LOW_BYTES  # less free space than this: /healthz degraded
        self._cycle_errors = 0  # unexpected cycle failures in a row (their traceback: once)
        require_a_choice(settings.encryption, settings.path)
        self._sweep_work_dir()
        # Refused (with the command to run) when the schema is older than this gateway's; a
        # SQLite store is taken for this daemon alone (PostgreSQL: shared, by leases).
        self.store: MessageStore = open_configured(settings)
        try:
            self._exclusive = self.store.exclusive(f"gateway run --config {settings.path}")
        except BaseException:
            self.store.close()
            raise
        self.store.record_event("daemon", self.holder, "started", actor="daemon",
                                reason=f"process {self.process_name}")
        self.metrics = Metrics(snapshot=self._queue_snapshot)
        self.runtime = runtime_factory(settings)
        self.pipeline = self._pipeline()
        self.last_poll: dict[str, datetime] = {}
        self.sla = SlaWatch(self.store, self.runtime.partners, self.log)
        self._last_cycle = time.monotonic()
        self.cycles = 0

    # -- entry points ---------------------------------------------------------------------------

    def run(self, *, once: bool = False) -> int:
        """Run until stopped (or one cycle with ``once``); return the exit code."""
        previous = self._install_signals()
        http = None if once else self._start_http()
        pool = DeliveryPool(self.settings, runtime=lambda: self.runtime, metrics=self.metrics,
                            stopping=self.stopping, name=self.process_name,
                            outages=self.outages)
        self.log.info("daemon started", partners=len(self.runtime.partners),
                      workers=self.settings.workers, once=once,
                      http=http.url if http else None)
        # Start-up's objects (modules, roster, config) live as long as the daemon: frozen, the
        # collector's full passes no longer walk them (0.3 s of a 100 MB central pay's cycle).
        gc.freeze()
        failed = False
        try:
            if once:
                polled = self.cycle(force=True)
                delivered = pool.drain()
                self.alerts.run(self.store)  # what this run found, told before it exits
                failed = not (polled and delivered)
            else:
                pool.start()
                while not self.stopping.is_set():
                    self._guarded_cycle()
                    self.stopping.wait(IDLE_SECONDS)
        finally:
            self.stopping.set()
            clean = pool.stop(timeout=self.shutdown_seconds)
            if http:
                http.stop()
            self.close()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            self.log.info("daemon stopped", cycles=self.cycles, clean=clean)
        return EXIT_FAILED if failed else EXIT_OK

    def close(self) -> None:
        """Release the partners' connections and the store."""
        self.runtime.close()
        self.store.close()
        self._exclusive.release()

    def request_stop(self) -> None:
        self.stopping.set()

    def request_reload(self) -> None:
        self._reload.set()

    # -- one cycle ----------------------------------------------------------------------------

    def cycle(self, *, force: bool = False) -> bool:
        """Poll due partners (not paused ones), parse and route, check SLAs. False if a poll
        or a file failed."""
        if self._reload.is_set():
            self._reload_runtime()
        now = utc_now()
        paused = self.store.partner_pauses()  # an operator's pause (gateway partners pause)
        due = [p for p in self.runtime.partners.values() if p.id not in paused and (
               force or p.poll.is_due(now, self.last_poll.get(p.id), self.settings.holidays))]
        outcomes = self._poll_all(due, force=force)
        self.pipeline.process_pending()  # a file that fails ends "failed", never stalls
        failed_files = self.pipeline.failed
        self._publish_reports()
        self._prune_daily()
        self.sla.check(self.store, self.runtime.partners.values(), utc_now(),
                       self.settings.holidays, self.metrics)
        if not force:
            self.alerts.tick(self.store)
        self.cycles += 1
        self.metrics.cycles.inc()
        self._last_cycle = time.monotonic()
        return not failed_files and all(o.error is None and not o.failed for o in outcomes)

    def _publish_reports(self) -> None:
        """Queue the reconciliation reports due today (issue 11); a failure is logged and
        tried again next cycle, never fatal."""
        today = utc_now().astimezone(self.settings.timezone).date()
        try:
            self.runtime.report_publisher(self.store, self.holder).publish_due(today)
        except Exception as exc:
            self.log.exception("reconciliation reports failed", error=type(exc).__name__)

    def _prune_daily(self) -> None:
        """The retention policy, once a day (gateway/lifecycle/daily.py); a failure is
        logged and tried again next cycle, never fatal."""
        roster = [str(m.destination) for m in self.runtime.config.roster]
        try:
            done = prune_if_due(self.store, self.settings, roster, utc_now())
        except Exception as exc:
            self.log.exception("daily prune failed", error=type(exc).__name__)
            return
        if done:
            self.log.info("daily prune", payloads=done[0].payloads,
                          payload_bytes=done[0].payload_bytes, rolled=done[0].rolled_files,
                          expired=done[0].expired_files, kept=done[0].kept,
                          temp_files=len(done[1].temp_files), orphans=len(done[1].orphans))

    def _guarded_cycle(self) -> None:
        """A cycle that cannot kill the daemon. A store outage is logged once and waited out
        with backoff; a bug logs its traceback once per streak and the next cycle tries again
        (``/healthz`` turns 503 if none succeeds)."""
        try:
            self.cycle()
        except StoreUnavailable as exc:
            self.stopping.wait(backoff(self.outages.failed(STORE, str(exc))))
            return
        except Exception as exc:
            self._cycle_errors += 1
            if self._cycle_errors == 1:
                self.log.exception("cycle failed; retrying", error=type(exc).__name__)
            self.stopping.wait(5 * IDLE_SECONDS)
            return
        self.outages.succeeded(STORE)
        self._cycle_errors = 0

    def _poll_all(self, partners: list[PartnerRuntime], *, force: bool) -> list[PollOutcome]:
        """Poll in parallel (a slow partner does not delay the others).

        A partner's first poll after start (and every ``--once`` poll) lists twice, a settle
        time apart: readiness is "unchanged across two listings", and waiting a whole interval
        after a restart for the second listing would delay every waiting file.
        """
        if not partners:
            return []
        with ThreadPoolExecutor(max_workers=min(4, len(partners)),
                                thread_name_prefix="poll") as executor:
            futures: list[Future[PollOutcome]] = [
                executor.submit(self._poll_one, p, force or p.id not in self.last_poll)
                for p in partners
            ]
            return [future.result() for future in futures]

    def _poll_one(self, partner: PartnerRuntime, prime: bool) -> PollOutcome:
        """Poll one partner under its poll lease. A partner's failure is counted, logged
        once per outage (:class:`Reachability`) and never raised; the store's is raised (it
        is the daemon's outage, not the partner's)."""
        store = open_configured(self.settings, migrate=False)
        started = utc_now()
        try:
            outcome = self._poll_leased(store, partner, prime)
            if outcome is None:
                return PollOutcome(partner.id)
            self.reachability.succeeded(store, partner.id)
        except StoreUnavailable:
            raise
        except Exception as exc:  # a partner's failure must never stop the daemon
            self.metrics.polls.labels(partner.id, "failed").inc()
            self.last_poll[partner.id] = started  # retry at the next interval, not at once
            self.reachability.failed(store, partner.id, exc)
            return PollOutcome(partner.id, error=str(exc))
        finally:
            store.close()
        self.last_poll[partner.id] = started
        if outcome.received:
            self.sla.received(partner.id, started)
        self.metrics.polls.labels(partner.id, "ok").inc()
        self.metrics.last_poll.labels(partner.id).set(started.timestamp())
        self.log.info("poll done", partner=partner.id, received=len(outcome.received),
                      duplicates=len(outcome.duplicates))
        return outcome

    def _poll_leased(self, store: MessageStore, partner: PartnerRuntime,
                     prime: bool) -> PollOutcome | None:
        """Receive from the partner holding its poll lease; None when another daemon has it."""
        with held(store, partner.id, self.holder, self.settings.lease_seconds) as lease:
            if lease is None:
                self.log.info("poll skipped: another daemon holds the lease", partner=partner.id)
                return None
            receiver = Receiver(store, work_dir=self.settings.work_dir, metrics=self.metrics,
                                stopping=self.stopping)
            return receiver.poll(partner, prime=prime, keep_alive=lambda: lease.alive)

    # -- plumbing -------------------------------------------------------------------------------

    def _sweep_work_dir(self) -> None:
        """Remove fetch and split temp files a crash left behind. Only old ones: a
        ``run --once`` from cron may start beside a running daemon that is mid-fetch."""
        work = self.settings.work_dir
        if not work.is_dir():
            return
        files = [p for p in work.iterdir() if p.is_file()]
        for leftover in remove_stale(files, time.time() - STALE_TEMP_SECONDS):
            self.log.info("stale temp file removed", name=leftover.name)

    def _pipeline(self) -> Pipeline:
        return Pipeline(
            self.store, parse=self.runtime.validator(), route=self.runtime.router(self.store),
            acknowledge=self.runtime.acknowledger(self.store), metrics=self.metrics,
            holder=self.holder, stopping=self.stopping, lease_seconds=self.settings.lease_seconds,
            record_claims=self.runtime.claim_recorder(self.store),
            work_dir=self.settings.work_dir,
        )

    def _reload_runtime(self) -> None:
        """SIGHUP: rebuild partners and members; keep the old ones if the new config is bad."""
        self._reload.clear()
        try:
            fresh = self._runtime_factory(self.settings)
        except Exception as exc:
            self.reload_refused = by_place(exc)
            self.log.error("reload refused: configuration invalid, keeping the running one",
                           error=str(exc))
            self.store.record_event("daemon", self.holder, "reload-refused", actor="daemon",
                                    reason=self.reload_refused)
            return
        old, self.runtime = self.runtime, fresh
        old.close()
        self.pipeline = self._pipeline()
        self.last_poll.clear()  # poll every partner now: an operator reloads to see a change
        self.reload_refused = None
        # A reload is how an operator says "I corrected what made those files fail".
        retried = retry_failed_files(self.store, actor="daemon", reason="configuration reloaded")
        self.store.record_event("daemon", self.holder, "reloaded", actor="daemon",
                                reason=f"{len(fresh.partners)} partners")
        self.log.info("configuration reloaded", partners=len(fresh.partners),
                      failed_files_retried=len(retried))

    def _queue_snapshot(self) -> QueueSnapshot:
        """Read at every scrape, on its own connection (the HTTP thread is not ours)."""
        return read_queue_snapshot(lambda: open_configured(self.settings, migrate=False))

    def _health(self) -> Health:
        silent = time.monotonic() - self._last_cycle
        detail: dict[str, object] = {"cycles": self.cycles, "seconds_since_cycle": round(silent)}
        if silent > HEALTHY_WITHIN:
            return Health(False, {**detail, "reason": "the main loop has not completed a cycle"})
        try:
            self._queue_snapshot()
        except Exception as exc:
            return Health(False, {**detail, "reason": f"store unavailable: {type(exc).__name__}"})
        return Health(True, detail, tuple(self._degraded()))

    def _degraded(self) -> list[str]:
        """Why a person should look although the daemon works (``/healthz`` "degraded")."""
        return degraded_reasons(reload_refused=self.reload_refused,
                                alert_channels=self.alerts.failing,
                                outages=self.outages.failing(),
                                folders=(self.settings.work_dir, self.settings.data_dir),
                                disk_low_bytes=self.disk_low_bytes)

    def _start_http(self) -> HealthServer | None:
        if self.settings.listen is None:
            return None
        host, port = self.settings.listen
        server = HealthServer(host, port, health=self._health, metrics=self.metrics.exposition)
        return server.start()

    def _install_signals(self) -> dict[int, Any]:
        """Route SIGTERM/SIGINT to a stop and SIGHUP to a reload; return the old handlers."""
        if threading.current_thread() is not threading.main_thread():
            return {}  # run from a thread (tests): request_stop() is called directly
        handlers = {signal.SIGTERM: lambda *_: self.request_stop(),
                    signal.SIGINT: lambda *_: self.request_stop(),
                    signal.SIGHUP: lambda *_: self.request_reload()}
        return {signum: signal.signal(signum, handler) for signum, handler in handlers.items()}


def run_daemon(settings: Settings, *, once: bool = False,
               beside: Callable[[Daemon], AbstractContextManager[object]] | None = None) -> int:
    """What ``gateway run`` calls: configure logging from the settings, then run — with
    ``beside(daemon)`` (the web console, which sits above the daemon) around a long run."""
    configure(json={"json": True, "console": False}.get(settings.log_format),
              level=settings.log_level)
    daemon = Daemon(settings)
    if once or beside is None:
        return daemon.run(once=once)
    try:
        extra = beside(daemon)
        extra.__enter__()
    except BaseException:
        daemon.close()
        raise
    try:
        return daemon.run()
    finally:
        extra.__exit__(None, None, None)
