"""The walk of one file: receive → store → parse → route → enqueue (DESIGN.md, steps 1-3).

Each step ends in a committed state in the message store, and each step can be redone from
that state after a crash, which is what makes SIGKILL at any moment harmless:

* **receive** (:mod:`gateway.daemon.receive`) — fetch, record, then acknowledge the
  partner's copy;
* **parse** — a file in ``received`` is parsed through (format detected from content,
  streaming item by item, so even a single-ST central pay is read in bounded memory); then
  ``parsed``. A structural error
  quarantines the file instead: reason kept, event written, negative acknowledgment queued.
* **route** — a ``parsed`` file goes to the router, which splits it into the members' parts
  and records them as documents and deliveries, idempotent by key; then ``routed``. Routing
  only starts once the whole file parsed, so a file broken in its last transaction set sends
  nobody anything.

Acknowledgments (TA1/999) for partners that ask for them are deliveries like any other — to
the partner's inbound folder — so they are retried, dead-lettered and traced the same way. An
accepting acknowledgment is queued only once the file is routed: a file that could not be
routed has not been accepted.

Any exception inside a stage (a bug, a site mapping with a typo) ends the file ``failed`` with
a located reason (:mod:`gateway.daemon.failures`), an event the ``processing-failed`` alert
reads, a metric and a log line — never a silent retry at every cycle. A failed file is taken up
again after a configuration reload or ``gateway files retry``. A store outage is not the file's
fault: the file stays in its state and the next cycle takes it up again by itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import BinaryIO

from gateway.daemon.failures import StageFailed
from gateway.daemon.metrics import Metrics
from gateway.daemon.parse import Parsed
from gateway.errors import InputError, StoreUnavailable
from gateway.log import get_logger
from gateway.store.base import MessageStore
from gateway.store.models import FileStatus, ReceivedFile
from gateway.x12.syntax.findings import Finding

ACTOR = "pipeline"
FILE_LEASE_SECONDS = 900.0  # longer than parsing and splitting the largest file takes

# A validator: read the whole file (InputError when it cannot be read at all).
Validator = Callable[[BinaryIO, ReceivedFile], Parsed]
# A router: split and route a parsed file into documents and deliveries; return how many.
Router = Callable[[ReceivedFile], int]
# An acknowledger: given the file, the error it is refused for (None: accepted) and the
# findings of the parse (None: read them again), queue what the partner wants.
Acknowledger = Callable[[ReceivedFile, InputError | None, list[Finding] | None], None]
# A claim recorder: take a routed file's claim facts into the claims ledger (idempotent;
# reports its own failures, never raises: see gateway.reconcile.recorder).
ClaimRecorder = Callable[[ReceivedFile], None]


class Pipeline:
    """Steps 2 and 3: parse each received file, route it (or quarantine it), acknowledge it;
    the delivery workers take it from the queue."""

    def __init__(self, store: MessageStore, *, parse: Validator, route: Router,
                 acknowledge: Acknowledger, metrics: Metrics, holder: str,
                 stopping: threading.Event | None = None,
                 record_claims: ClaimRecorder | None = None) -> None:
        self.store = store
        self.holder = holder
        self._parse = parse
        self._route = route
        self._acknowledge = acknowledge
        self._record_claims = record_claims or (lambda _received: None)
        self.metrics = metrics
        self.stopping = stopping or threading.Event()
        self.log = get_logger(component="pipeline")
        self.failed: list[int] = []  # files that failed since the last process_pending

    def process_pending(self) -> int:
        """Take every file left in ``received`` or ``parsed`` (new, or interrupted) forward;
        return how many reached a final state. The ids of those that failed are in
        :attr:`failed`.

        Each file is processed under a named lease in the store, so daemons sharing a
        PostgreSQL store never work on the same file at once.
        """
        done = 0
        self.failed = []
        for status in (FileStatus.RECEIVED, FileStatus.PARSED):
            for received in reversed(self.store.list_files(status=status, limit=1000)):
                if self.stopping.is_set():
                    return done
                lease = f"file:{received.id}"
                if not self.store.acquire_poll_lease(lease, self.holder, FILE_LEASE_SECONDS):
                    continue  # another daemon (shared PostgreSQL store) is on it
                try:
                    self.process(received)
                except StageFailed as failure:
                    self.fail(received, failure)
                finally:
                    self.store.release_poll_lease(lease, self.holder)
                done += 1
        return done

    def process(self, received: ReceivedFile) -> None:
        """Parse (unless already parsed), route and acknowledge one file. StageFailed when a
        stage raised (StoreUnavailable goes through: the store's outage, not the file's)."""
        findings: list[Finding] | None = None
        if received.status is FileStatus.RECEIVED:
            with _stage("parse"):
                parsed = self._parse_whole(received)
            if parsed is None:
                return  # quarantined
            findings = parsed.findings
            received = self.store.set_file_status(received.id, FileStatus.PARSED, actor=ACTOR)
        if received.status is FileStatus.PARSED:
            with _stage("route"):
                queued = self._route(received)
            with _stage("record claims"):
                self._record_claims(received)  # the claims ledger (issue 11), before "routed"
            with _stage("acknowledge"):
                self._acknowledge(received, None, findings)  # accepted: parsed and routed
            self.store.set_file_status(received.id, FileStatus.ROUTED, actor=ACTOR,
                                       reason=f"{queued} deliveries")
            self.log.info("file routed", partner=received.partner, file_id=received.id,
                          deliveries=queued)

    def fail(self, received: ReceivedFile, failure: StageFailed) -> None:
        """End the file ``failed`` with the located reason; tell the log (its traceback,
        which names no data), the metric and, through the event, the alerts."""
        self.failed.append(received.id)
        self.store.set_file_status(received.id, FileStatus.FAILED, actor=ACTOR,
                                   reason=failure.reason)
        self.metrics.files_failed.labels(received.partner, failure.stage).inc()
        self.log.error("file failed", partner=received.partner, file_id=received.id,
                       stage=failure.stage, error=type(failure.cause).__name__,
                       exc_info=failure.cause)

    def _parse_whole(self, received: ReceivedFile) -> Parsed | None:
        """Read the whole file; None when it was quarantined instead."""
        try:
            with self.store.open_payload(received.sha256) as stream:
                parsed = self._parse(stream, received)
        except InputError as exc:  # not even readable to the end
            self.quarantine(received, exc, None)
            return None
        error = parsed.refusal()
        if error is not None:
            self.quarantine(received, error, parsed.findings)
            return None
        for kind, n in parsed.documents.items():
            self.metrics.documents.labels(received.partner, kind).inc(n)
        self.log.info("file parsed", partner=received.partner, file_id=received.id,
                      documents=sum(parsed.documents.values()),
                      warnings=len(parsed.findings))
        return parsed

    def quarantine(self, received: ReceivedFile, error: InputError,
                   findings: list[Finding] | None) -> None:
        """Keep the file (its bytes stay in the store), say why, and tell the partner.

        The negative acknowledgment is queued first: once the file is quarantined nothing
        looks at it again, so a crash in between must not be able to lose the answer; a
        failure to queue it fails the file (stage "acknowledge"), to be tried again.
        """
        with _stage("acknowledge"):
            self._acknowledge(received, error, findings)
        reason = f"{error.code}: {error}"
        self.store.set_file_status(received.id, FileStatus.QUARANTINED, actor=ACTOR,
                                   reason=reason)
        self.metrics.quarantined.labels(received.partner, error.code).inc()
        # The log gets the code and the location, not the message: a message may quote data.
        self.log.warning("file quarantined", partner=received.partner, file_id=received.id,
                         sha256=received.sha256, code=error.code,
                         segment_number=error.location.segment_number,
                         segment_id=error.location.segment_id,
                         byte_offset=error.location.byte_offset)


@contextmanager
def _stage(name: str) -> Iterator[None]:
    """Name the stage an exception came from; a store outage and a stage already named
    pass through unchanged."""
    try:
        yield
    except (StoreUnavailable, StageFailed):
        raise
    except Exception as exc:
        raise StageFailed(name, exc) from exc
