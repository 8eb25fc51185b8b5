"""The walk of one file: receive → store → parse → route → enqueue (DESIGN.md, steps 1-3).

Each step ends in a committed state in the message store, and each step can be redone from
that state after a crash, which is what makes SIGKILL at any moment harmless:

* **receive** — fetch to a temp file (fsynced, hashed), record it (the idempotent receiver
  turns a second copy into a ``duplicate``), *then* acknowledge the partner's copy. A crash
  before the record re-fetches; a crash after it re-records the same bytes as a duplicate.
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

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from gateway.detect import HEAD_SIZE, detect_format, printable_prefix
from gateway.errors import InputError, Location
from gateway.log import get_logger
from gateway.metrics import Metrics
from gateway.model import TransactionEnd
from gateway.ncpdp.model import ClaimRequest, ClaimResponse
from gateway.ncpdp.reader import parse_file as read_ncpdp
from gateway.store.base import MessageStore
from gateway.store.models import FileStatus, ReceivedFile
from gateway.x12.findings import Finding
from gateway.x12.reader import iter_835

if TYPE_CHECKING:
    from gateway.runtime import PartnerRuntime

ACTOR = "pipeline"
FILE_LEASE_SECONDS = 900.0  # longer than parsing and splitting the largest file takes


@dataclass
class PollOutcome:
    """What one poll of one partner did."""

    partner: str
    received: list[int] = field(default_factory=list)  # new file ids
    duplicates: list[int] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True)
class Parsed:
    """What reading a whole file found: documents by kind and every finding (an X12 file is
    read collecting, so the acknowledgment can name every defect without a second read)."""

    documents: dict[str, int]
    findings: list[Finding]

    def refusal(self) -> InputError | None:
        """The first fatal finding as the error the file is quarantined for, if any."""
        fatal = next((f for f in self.findings if f.fatal), None)
        if fatal is None:
            return None
        return InputError(fatal.message, code=fatal.code, where=fatal.location)


# A validator: read the whole file (InputError when it cannot be read at all).
Validator = Callable[[BinaryIO, ReceivedFile], Parsed]
# A router: split and route a parsed file into documents and deliveries; return how many.
Router = Callable[[ReceivedFile], int]
# An acknowledger: given the file, the error it is refused for (None: accepted) and the
# findings of the parse (None: read them again), queue what the partner wants.
Acknowledger = Callable[[ReceivedFile, InputError | None, list[Finding] | None], None]


def file_format(stream: BinaryIO, received: ReceivedFile) -> str:
    """The file's format from its first bytes (never its name); InputError when unknown."""
    head = stream.read(HEAD_SIZE)
    stream.seek(0)
    found = detect_format(head)
    if found is None:
        raise InputError(
            f"the file is neither X12 nor NCPDP (it starts {printable_prefix(head)})",
            code="unknown-format", where=Location(file=received.original_name, byte_offset=0),
            fix="ask the partner which format this is; X12 835 and NCPDP D.0/batch are read")
    return found


def parse_file(stream: BinaryIO, received: ReceivedFile) -> Parsed:
    """Read the whole file: an X12 835 collecting its findings (one document per transaction
    set), an NCPDP file strictly (one per transmission; its acknowledgments are not X12's).
    """
    if file_format(stream, received) == "x12":
        findings: list[Finding] = []
        items = iter_835(stream, file_name=received.original_name, findings=findings)
        sets = sum(isinstance(item, TransactionEnd) for item in items)  # bounded memory
        return Parsed({"835": sets}, findings)
    counts: dict[str, int] = {}
    for document in read_ncpdp(stream, strict=True):
        kind = ncpdp_kind(document)
        counts[kind] = counts.get(kind, 0) + 1
    return Parsed(counts, [])


def ncpdp_kind(document: ClaimRequest | ClaimResponse) -> str:
    return "ncpdp-request" if isinstance(document, ClaimRequest) else "ncpdp-response"


def by_format(store: MessageStore, x12: Router) -> Router:
    """Route an 835 through the splitter and router (``x12``); record an NCPDP file's
    transmissions as documents keyed by the pharmacy (201-B1 service provider id), so that
    ``gateway trace`` and reconciliation find them — no routing rule sends claims on yet."""

    def route(received: ReceivedFile) -> int:
        with store.open_payload(received.sha256) as stream:
            if file_format(stream, received) == "x12":
                return x12(received)
            for ordinal, document in enumerate(read_ncpdp(stream, strict=True)):
                store.add_document(
                    received.id, ordinal, kind=ncpdp_kind(document),
                    routing_keys={"ncpdp_id": document.header.service_provider_id},
                    source_start=document.source.byte_offset)
        return 0

    return route


class Receiver:
    """Step 1, the idempotent receiver: a partner's ready files into the message store."""

    def __init__(self, store: MessageStore, *, work_dir: Path, metrics: Metrics,
                 stopping: threading.Event | None = None) -> None:
        self.store = store
        self.work_dir = work_dir
        self.metrics = metrics
        self.stopping = stopping or threading.Event()
        self.log = get_logger(component="receiver")
        work_dir.mkdir(parents=True, exist_ok=True)

    def poll(self, partner: PartnerRuntime, *, prime: bool = False,
             keep_alive: Callable[[], bool] | None = None) -> PollOutcome:
        """List the partner's ready files and receive each one.

        ``prime`` lists once more after the partner's settle time: a file is ready when it is
        unchanged across two listings, and a first poll (or ``--once``) has no earlier one.
        ``keep_alive`` is called before each file (the daemon renews its poll lease there);
        when it answers False another daemon has taken over the partner and the poll stops.
        """
        outcome = PollOutcome(partner.id)
        ready = partner.source.list_ready()
        if prime and self.stopping.wait(partner.settle_seconds) is False:
            seen = {r.path for r in ready}
            ready += [r for r in partner.source.list_ready() if r.path not in seen]
        for remote in ready:
            if self.stopping.is_set():
                break
            if keep_alive is not None and not keep_alive():
                self.log.warning("poll lease lost: stopping this poll", partner=partner.id)
                break
            fetched = partner.source.fetch(remote, self.work_dir)
            try:
                receipt = self.store.record_received(
                    partner=partner.id, remote_path=remote.path, original_name=remote.name,
                    size=fetched.size, mtime=remote.mtime, sha256=fetched.sha256,
                    payload_path=fetched.local_path, actor=ACTOR,
                )
            finally:
                fetched.local_path.unlink(missing_ok=True)
            # Only now, with the bytes committed, may the partner's copy go.
            partner.source.acknowledge(remote)
            received = receipt.file
            outcome_label = "duplicate" if receipt.duplicate else "accepted"
            (outcome.duplicates if receipt.duplicate else outcome.received).append(received.id)
            self.metrics.files_received.labels(partner.id, outcome_label).inc()
            self.log.info("file received", partner=partner.id, file_id=received.id,
                          sha256=received.sha256, size=received.size, outcome=outcome_label,
                          duplicate_of=received.duplicate_of)
        return outcome


class Pipeline:
    """Steps 2 and 3: parse each received file, route it (or quarantine it), acknowledge it;
    the delivery workers take it from the queue."""

    def __init__(self, store: MessageStore, *, parse: Validator, route: Router,
                 acknowledge: Acknowledger, metrics: Metrics, holder: str,
                 stopping: threading.Event | None = None) -> None:
        self.store = store
        self.holder = holder
        self._parse = parse
        self._route = route
        self._acknowledge = acknowledge
        self.metrics = metrics
        self.stopping = stopping or threading.Event()
        self.log = get_logger(component="pipeline")
        self.stuck: set[int] = set()

    def process_pending(self) -> int:
        """Take every file left in ``received`` or ``parsed`` (new, or interrupted) forward.

        A file whose processing raised something unexpected (a bug, not bad input) is logged
        with its traceback, recorded as an event and skipped until the next restart or
        reload, so one file can never stall the others or stop the daemon. Each file is
        processed under a named lease in the store, so daemons sharing a PostgreSQL store
        never work on the same file at once.
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
                except Exception as exc:
                    self.stuck.add(received.id)
                    self.log.exception("file processing failed; skipped until restart",
                                       partner=received.partner, file_id=received.id,
                                       error=type(exc).__name__)
                    self.store.record_event("file", received.id, "processing-failed",
                                            actor=ACTOR, reason=type(exc).__name__)
                    continue
                finally:
                    self.store.release_poll_lease(lease, self.holder)
                done += 1
        return done

    def process(self, received: ReceivedFile) -> None:
        """Parse (unless already parsed) and route one file."""
        if received.status is FileStatus.RECEIVED:
            parsed = self._parse_whole(received)
            if parsed is None:
                return  # quarantined
            self._send_ack(received, None, parsed.findings)
            received = self.store.set_file_status(received.id, FileStatus.PARSED, actor=ACTOR)
        if received.status is FileStatus.PARSED:
            queued = self._route(received)
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
        except Exception as exc:
            self.log.exception("acknowledgment failed", partner=received.partner,
                               file_id=received.id, error=type(exc).__name__)
            self.store.record_event("file", received.id, "ack-failed", actor=ACTOR,
                                    reason=type(exc).__name__)
