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
the partner's inbound folder — so they are retried, dead-lettered and traced the same way.
"""

from __future__ import annotations

import os
import threading
import traceback
from collections.abc import Callable
from typing import BinaryIO

from gateway.daemon.metrics import Metrics
from gateway.daemon.parse import Parsed
from gateway.errors import ConfigError, InputError, Location, StoreUnavailable
from gateway.log import get_logger
from gateway.store.base import MessageStore
from gateway.store.models import FileStatus, ReceivedFile
from gateway.x12.syntax.findings import Finding

ACTOR = "pipeline"
PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../gateway
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
        self.stuck: set[int] = set()

    def process_pending(self) -> int:
        """Take every file left in ``received`` or ``parsed`` (new, or interrupted) forward.

        A file whose processing raised something unexpected (a bug, not bad input) is logged
        with its traceback and quarantined with the exception and the line that raised it
        (code ``internal-error``), so one file can never stall the others, stop the daemon
        or sit unseen; a configuration error is not the file's fault: it is skipped until
        the next restart or reload. A store outage is
        not the file's fault: it is raised to the daemon's loop, which waits it out, and the
        file is taken up again from its state. Each file is processed under a named lease in
        the store, so daemons sharing a PostgreSQL store never work on the same file at once.
        """
        done = 0
        for status in (FileStatus.RECEIVED, FileStatus.PARSED):
            for received in reversed(self.store.list_files(status=status, limit=1000)):
                if self.stopping.is_set():
                    return done
                if received.id in self.stuck:
                    continue
                lease = f"file:{received.id}"
                if not self.store.acquire_poll_lease(lease, self.holder, FILE_LEASE_SECONDS):
                    continue  # another daemon (shared PostgreSQL store) is on it
                try:
                    self.process(received)
                except StoreUnavailable:
                    raise  # not this file's fault: it stays where it is, for the next cycle
                except ConfigError as exc:  # not the file's fault: the daemon's to heal
                    self._skip(received, exc)
                    continue
                except Exception as exc:  # a bug, but the file still ends where it is seen
                    if not self._quarantine_after(received, exc):
                        continue
                finally:
                    self.store.release_poll_lease(lease, self.holder)
                done += 1
        return done

    def _skip(self, received: ReceivedFile, exc: Exception) -> None:
        """Leave the file where it is until a restart or reload (its state stays)."""
        self.stuck.add(received.id)
        self.log.exception("file processing failed; skipped until restart",
                           partner=received.partner, file_id=received.id,
                           error=type(exc).__name__)
        self.store.record_event("file", received.id, "processing-failed",
                                actor=ACTOR, reason=type(exc).__name__)

    def _quarantine_after(self, received: ReceivedFile, exc: Exception) -> bool:
        """An unexpected exception while parsing or routing: quarantine the file with the
        exception and where in the code it was raised (issue 10: never a silent retry loop;
        the negative acknowledgment, the quarantine metric and alert follow). False when even
        that failed: the file is skipped until restart."""
        self.log.exception("file processing raised; quarantined", partner=received.partner,
                           file_id=received.id, error=type(exc).__name__)
        try:
            current = self.store.get_file(received.id)
            self.store.payments.forget_file(received.id)  # its sets were never queued
            self.quarantine(current, internal_error(current, exc), None)
        except StoreUnavailable:
            raise
        except Exception as again:
            self._skip(received, again)
            return False
        return True

    def process(self, received: ReceivedFile) -> None:
        """Parse (unless already parsed) and route one file; acknowledge it once routed.

        The accepting acknowledgment waits for the route: a set is accepted only once its
        parts are queued (or visibly held) and proved to conserve its claims and money. A
        route that refuses the file (the splitter cannot cut what the reader read, or the
        conservation proof fails) quarantines it, and the acknowledgment rejects it.
        """
        findings: list[Finding] | None = None  # None after a restart: read again to ack
        if received.status is FileStatus.RECEIVED:
            parsed = self._parse_whole(received)
            if parsed is None:
                return  # quarantined
            findings = parsed.findings
            received = self.store.set_file_status(received.id, FileStatus.PARSED, actor=ACTOR)
        if received.status is FileStatus.PARSED:
            try:
                queued = self._route(received)
            except InputError as exc:
                self.quarantine(received, exc, findings)
                return
            self._record_claims(received)  # the claims ledger (issue 11), before "routed"
            self._send_ack(received, None, findings)
            self.store.set_file_status(received.id, FileStatus.ROUTED, actor=ACTOR,
                                       reason=f"{queued} deliveries")
            self.log.info("file routed", partner=received.partner, file_id=received.id,
                          deliveries=queued)

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
        looks at it again, so a crash in between must not be able to lose the answer.
        """
        self._send_ack(received, error, findings)
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

    def _send_ack(self, received: ReceivedFile, error: InputError | None,
                  findings: list[Finding] | None) -> None:
        """Queue the partner's acknowledgment; a failure here never blocks the file."""
        try:
            self._acknowledge(received, error, findings)
        except StoreUnavailable:
            raise  # the file waits in its state; its acknowledgment is queued when it is back
        except Exception as exc:
            self.log.exception("acknowledgment failed", partner=received.partner,
                               file_id=received.id, error=type(exc).__name__)
            self.store.record_event("file", received.id, "ack-failed", actor=ACTOR,
                                    reason=type(exc).__name__)


def internal_error(received: ReceivedFile, exc: BaseException) -> InputError:
    """An exception as the reason a file is quarantined: its type, the stage and the line of
    the gateway's code that raised it (code ``internal-error``)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f.filename.startswith(PACKAGE)] or frames
    at = ""
    if ours:
        where = ours[-1]
        at = f" at gateway/{os.path.relpath(where.filename, PACKAGE)}:{where.lineno}"
    stage = "routing" if received.status is FileStatus.PARSED else "parsing"
    return InputError(
        f"{type(exc).__name__} while {stage}{at}: {exc}", code="internal-error",
        where=Location(file=received.original_name),
        fix="a gateway defect: report it with `gateway trace F<id>`; the file is kept as is")
