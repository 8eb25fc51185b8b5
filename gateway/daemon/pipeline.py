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
accepting acknowledgment is queued only once the file is routed.

Every exception ends the file in a named state, never in a silent retry loop: a bug met on
the file's bytes quarantines it (code ``internal-error``, the line that raised); a
configuration the daemon cannot use (a typo in a site mapping) or an acknowledgment that
could not be queued ends it ``failed`` with a located reason (:mod:`gateway.daemon.failures`),
an event the ``processing-failed`` alert reads, a metric and a log line. A failed file is
taken up again after a configuration reload or ``gateway files retry``. A store outage is not
the file's fault: the file stays in its state and the next cycle takes it up by itself.
"""

from __future__ import annotations

import os
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

from gateway.daemon.failures import StageFailed
from gateway.daemon.leases import held
from gateway.daemon.local_copy import local_copy
from gateway.daemon.metrics import Metrics
from gateway.daemon.parse import ItemSink, Parsed
from gateway.errors import ConfigError, InputError, Location, StoreUnavailable
from gateway.log import get_logger
from gateway.routing.read_sets import ReadSet
from gateway.store.base import MessageStore
from gateway.store.models import FileStatus, ReceivedFile
from gateway.x12.syntax.findings import Finding

ACTOR = "pipeline"
PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../gateway

# A validator: read the whole file (InputError when it cannot be read at all), handing each
# item of an 835 to the sinks too (one read serves the claims ledger as well).
Validator = Callable[[BinaryIO, ReceivedFile, Sequence[ItemSink]], Parsed]
# A router: split and route a parsed file into documents and deliveries; return how many.
# Given the file's local copy (the one the parse read) and the parse's tallies of the file's
# sets when it was parsed in this process (None after a restart: the router reads the file
# again for its conservation proof).
Router = Callable[[ReceivedFile, Path, Sequence[ReadSet] | None], int]
# An acknowledger: given the file, the error it is refused for (None: accepted) and what the
# parse read of it — findings and envelopes (None: not parsed in this process, read them
# again) — queue what the partner wants.
Acknowledger = Callable[[ReceivedFile, InputError | None, Parsed | None], None]


class ClaimRecorder(Protocol):
    """Takes a routed file's claim facts into the claims ledger (idempotent; reports its own
    failures, never raises: see gateway.reconcile.recorder)."""

    def listen(self, received: ReceivedFile) -> ItemSink:
        """A sink for the file's items while it is parsed (facts made on the way)."""

    def discard(self) -> None:
        """The file listened to is not routed (quarantined): forget what was taken in."""

    def __call__(self, received: ReceivedFile) -> None:
        """The file is routed: complete its facts (read the file if the parse did not)."""


class _NoLedger:
    def listen(self, received: ReceivedFile) -> ItemSink:
        return lambda _item: None

    def discard(self) -> None:
        pass

    def __call__(self, received: ReceivedFile) -> None:
        pass


class Pipeline:
    """Steps 2 and 3: parse each received file, route it (or quarantine it), acknowledge it;
    the delivery workers take it from the queue."""

    def __init__(self, store: MessageStore, *, parse: Validator, route: Router,
                 acknowledge: Acknowledger, metrics: Metrics, holder: str,
                 stopping: threading.Event | None = None, lease_seconds: float = 60.0,
                 record_claims: ClaimRecorder | None = None,
                 work_dir: Path | None = None) -> None:
        """``work_dir``: where a file's local copy is made (None: the system's temp dir)."""
        self.store = store
        self.work_dir = work_dir
        self.holder = holder
        self.lease_seconds = lease_seconds  # a file's lease, kept alive while it is processed
        self._parse = parse
        self._route = route
        self._acknowledge = acknowledge
        self._record_claims: ClaimRecorder = record_claims or _NoLedger()
        self.metrics = metrics
        self.stopping = stopping or threading.Event()
        self.log = get_logger(component="pipeline")
        self.failed: list[int] = []  # files that failed in the last process_pending

    def process_pending(self) -> int:
        """Take every file left in ``received`` or ``parsed`` (new, or interrupted) forward;
        return how many were taken up. The ids of those that ended ``failed`` are in
        :attr:`failed`.

        Each file is processed under a named lease in the store (kept alive while it runs:
        gateway/daemon/leases.py), so daemons sharing a PostgreSQL store never work on the
        same file at once, and a dead daemon's file is taken over within one lease period.
        """
        done = 0
        self.failed = []
        for status in (FileStatus.RECEIVED, FileStatus.PARSED):
            for received in reversed(self.store.list_files(status=status, limit=1000)):
                if self.stopping.is_set():
                    return done
                with held(self.store, f"file:{received.id}", self.holder,
                          self.lease_seconds) as lease:
                    if lease is None:
                        continue  # another daemon (shared PostgreSQL store) is on it
                    received = self.store.get_file(received.id)  # as it is now, not as listed
                    if received.status in (FileStatus.RECEIVED, FileStatus.PARSED):
                        self._process_one(received)
                        done += 1
        return done

    def _process_one(self, received: ReceivedFile) -> None:
        """Process one file; whatever it raises ends it quarantined or failed (a store outage
        goes to the daemon's loop: the file waits in its state)."""
        try:
            self.process(received)
        except StageFailed as failure:
            self.fail(received, failure)
        except StoreUnavailable:
            raise
        except ConfigError as exc:  # not the file's fault: the daemon's configuration
            self.fail(received, StageFailed(_stage_of(received, self.store), exc))
        except Exception as exc:  # a bug, but the file still ends where it is seen
            self._quarantine_after(received, exc)

    def fail(self, received: ReceivedFile, failure: StageFailed) -> None:
        """End the file ``failed`` with the located reason; tell the log (its traceback,
        which names no data), the metric and, through the event, the alerts."""
        self.failed.append(received.id)
        self.store.payments.forget_file(received.id)  # a retry claims its keys again
        self.store.set_file_status(received.id, FileStatus.FAILED, actor=ACTOR,
                                   reason=failure.reason)
        self.metrics.files_failed.labels(received.partner, failure.stage).inc()
        self.log.error("file failed", partner=received.partner, file_id=received.id,
                       stage=failure.stage, error=type(failure.cause).__name__,
                       exc_info=failure.cause)

    def _quarantine_after(self, received: ReceivedFile, exc: Exception) -> None:
        """An unexpected exception while parsing or routing: quarantine the file with the
        exception and where in the code it was raised (issue 10: never a silent retry loop;
        the negative acknowledgment, the quarantine metric and alert follow). When even that
        fails, the file ends ``failed``."""
        self.log.exception("file processing raised; quarantined", partner=received.partner,
                           file_id=received.id, error=type(exc).__name__)
        try:
            current = self.store.get_file(received.id)
            self.store.payments.forget_file(received.id)  # its sets were never queued
            self.quarantine(current, internal_error(current, exc), None)
        except StageFailed as failure:
            self.fail(received, failure)
        except StoreUnavailable:
            raise
        except Exception as again:
            self.fail(received, StageFailed("quarantine", again))

    def process(self, received: ReceivedFile) -> None:
        """Parse (unless already parsed) and route one file; acknowledge it once routed.

        The accepting acknowledgment waits for the route: a set is accepted only once its
        parts are queued (or visibly held) and proved to conserve its claims and money. A
        route that refuses the file (the splitter cannot cut what the reader read, or the
        conservation proof fails) quarantines it, and the acknowledgment rejects it.
        """
        with local_copy(self.store, received, self.work_dir) as path:  # one fetch for both
            self._parse_and_route(received, path)

    def _parse_and_route(self, received: ReceivedFile, path: Path) -> None:
        read: Parsed | None = None  # None after a restart: read again to acknowledge
        sets: Sequence[ReadSet] | None = None
        if received.status is FileStatus.RECEIVED:
            read = self._parse_whole(received, path)
            if read is None:
                return  # quarantined
            sets = read.sets
            received = self.store.set_file_status(received.id, FileStatus.PARSED, actor=ACTOR)
        if received.status is FileStatus.PARSED:
            try:
                queued = self._route(received, path, sets)
            except InputError as exc:
                self.quarantine(received, exc, read)
                return
            self._record_claims(received)  # the claims ledger (issue 11), before "routed"
            with _stage("acknowledge"):
                self._acknowledge(received, None, read)
            self.store.set_file_status(received.id, FileStatus.ROUTED, actor=ACTOR,
                                       reason=f"{queued} deliveries")
            self.log.info("file routed", partner=received.partner, file_id=received.id,
                          deliveries=queued)

    def _parse_whole(self, received: ReceivedFile, path: Path) -> Parsed | None:
        """Read the whole file; None when it was quarantined instead."""
        try:
            with path.open("rb") as stream:
                parsed = self._parse(stream, received, [self._record_claims.listen(received)])
        except InputError as exc:  # not even readable to the end
            self.quarantine(received, exc, None)
            return None
        error = parsed.refusal()
        if error is not None:
            self.quarantine(received, error, parsed)
            return None
        for kind, n in parsed.documents.items():
            self.metrics.documents.labels(received.partner, kind).inc(n)
        if parsed.findings:  # warnings only (an error refused the file): the operator sees them
            self.store.record_event("file", received.id, "findings", actor=ACTOR,
                                    reason=findings_summary(parsed.findings))
        self.log.info("file parsed", partner=received.partner, file_id=received.id,
                      documents=sum(parsed.documents.values()),
                      warnings=len(parsed.findings))
        return parsed

    def quarantine(self, received: ReceivedFile, error: InputError,
                   parsed: Parsed | None) -> None:
        """Keep the file (its bytes stay in the store), say why, and tell the partner.

        The negative acknowledgment is queued first: once the file is quarantined nothing
        looks at it again, so a crash in between must not be able to lose the answer; one
        that cannot be queued fails the file (stage "acknowledge"), to be tried again.
        """
        self._record_claims.discard()  # facts taken in while it was parsed: out again
        with _stage("acknowledge"):
            self._acknowledge(received, error, parsed)
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


def findings_summary(findings: list[Finding]) -> str:
    """Counts and the first codes with their places (codes and places only: no data)."""
    first = "; ".join(f"{f.code} at {f.location}" for f in findings[:3])
    more = f" and {len(findings) - 3} more" if len(findings) > 3 else ""
    return f"{len(findings)} warning(s): {first}{more}"[:500]


def _stage_of(received: ReceivedFile, store: MessageStore) -> str:
    """The stage a file was in when it raised: parse while received, route once parsed."""
    status = store.get_file(received.id).status
    return "route" if status is FileStatus.PARSED else "parse"


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
