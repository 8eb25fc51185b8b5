"""The walk of one file: receive → store → parse → route → enqueue (DESIGN.md, steps 1-3).

Each step ends in a committed state in the message store, and each step can be redone from
that state after a crash, which is what makes SIGKILL at any moment harmless:

* **receive** — fetch to a temp file (fsynced, hashed), record it (the idempotent receiver
  turns a second copy into a ``duplicate``), *then* acknowledge the partner's copy. A crash
  before the record re-fetches; a crash after it re-records the same bytes as a duplicate.
* **parse** — a file in ``received`` is parsed (format detected from content) and each
  document recorded (idempotent by ordinal); then ``parsed``. A structural error quarantines
  the file instead: reason kept, event written, negative acknowledgment queued.
* **route** — a ``parsed`` file is parsed again, streaming, and each document handed to the
  router, whose deliveries are idempotent by key; then ``routed``. Routing only starts once
  the whole file parsed, so a file broken in its last transaction set sends nobody anything.

Acknowledgments (TA1/999) for partners that ask for them are deliveries like any other — to
the partner's inbound folder — so they are retried, dead-lettered and traced the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from gateway.errors import InputError
from gateway.log import get_logger
from gateway.metrics import Metrics
from gateway.runtime import PartnerRuntime
from gateway.store.base import MessageStore
from gateway.store.models import FileStatus, ReceivedFile

ACTOR = "pipeline"


@dataclass
class PollOutcome:
    """What one poll of one partner did."""

    partner: str
    received: list[int] = field(default_factory=list)  # new file ids
    duplicates: list[int] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True)
class ParsedDocument:
    """One document the parser yielded: its kind, routing keys, source span and the object
    the router needs (a Remittance, an NCPDP batch, ...)."""

    kind: str
    routing_keys: dict[str, str]
    source_start: int | None
    source_end: int | None
    content: Any


# A parser: given the raw bytes and the file, yield documents; raise InputError on a bad file.
Parser = Callable[[BinaryIO, ReceivedFile], Iterator[ParsedDocument]]
# An acknowledger: given the file and the error (None: accepted), queue what the partner wants.
Acknowledger = Callable[[ReceivedFile, InputError | None], None]


class Pipeline:
    """Receives, parses and routes; the delivery workers take it from the queue."""

    def __init__(
        self,
        store: MessageStore,
        *,
        work_dir: Path,
        parse: Parser,
        route: Callable[[ReceivedFile, Iterator[tuple[int, ParsedDocument]]], int],
        acknowledge: Acknowledger,
        metrics: Metrics,
        stopping: threading.Event | None = None,
    ) -> None:
        self.store = store
        self.work_dir = work_dir
        self._parse = parse
        self._route = route
        self._acknowledge = acknowledge
        self.metrics = metrics
        self.stopping = stopping or threading.Event()
        self.log = get_logger(component="pipeline")
        work_dir.mkdir(parents=True, exist_ok=True)

    # -- receive ------------------------------------------------------------------------------

    def poll(self, partner: PartnerRuntime, *, prime: bool = False) -> PollOutcome:
        """List the partner's ready files and receive each one.

        ``prime`` lists once more after the partner's settle time, for ``--once``: a file is
        ready when it is unchanged across two listings, and a one-shot run has only one cycle.
        """
        outcome = PollOutcome(partner.id)
        ready = partner.source.list_ready()
        if prime and self.stopping.wait(partner.settle_seconds) is False:
            seen = {r.path for r in ready}
            ready += [r for r in partner.source.list_ready() if r.path not in seen]
        for remote in ready:
            if self.stopping.is_set():
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

    # -- parse and route ----------------------------------------------------------------------

    def process_pending(self) -> int:
        """Take every file left in ``received`` or ``parsed`` (new, or interrupted) forward."""
        done = 0
        for status in (FileStatus.RECEIVED, FileStatus.PARSED):
            for received in reversed(self.store.list_files(status=status, limit=1000)):
                if self.stopping.is_set():
                    return done
                self.process(received)
                done += 1
        return done

    def process(self, received: ReceivedFile) -> None:
        """Parse (unless already parsed) and route one file."""
        if received.status is FileStatus.RECEIVED:
            if not self._parse_and_record(received):
                return
            received = self.store.set_file_status(received.id, FileStatus.PARSED, actor=ACTOR)
        if received.status is FileStatus.PARSED:
            with self.store.open_payload(received.sha256) as stream:
                queued = self._route(received, self._numbered(stream, received))
            self.store.set_file_status(received.id, FileStatus.ROUTED, actor=ACTOR,
                                       reason=f"{queued} deliveries")
            self.log.info("file routed", partner=received.partner, file_id=received.id,
                          deliveries=queued)

    def _parse_and_record(self, received: ReceivedFile) -> bool:
        """Pass one: parse the whole file, recording its documents. False if quarantined."""
        count = 0
        kinds: dict[str, int] = {}
        try:
            with self.store.open_payload(received.sha256) as stream:
                for ordinal, doc in self._numbered(stream, received):
                    self.store.add_document(
                        received.id, ordinal, kind=doc.kind, routing_keys=doc.routing_keys,
                        source_start=doc.source_start, source_end=doc.source_end,
                    )
                    kinds[doc.kind] = kinds.get(doc.kind, 0) + 1
                    count += 1
        except InputError as exc:
            self.quarantine(received, exc)
            return False
        for kind, n in kinds.items():
            self.metrics.documents.labels(received.partner, kind).inc(n)
        self.log.info("file parsed", partner=received.partner, file_id=received.id,
                      documents=count)
        self._acknowledge(received, None)
        return True

    def quarantine(self, received: ReceivedFile, error: InputError) -> None:
        """Keep the file (its bytes stay in the store), say why, and tell the partner."""
        reason = f"{error.code}: {error}"
        self.store.set_file_status(received.id, FileStatus.QUARANTINED, actor=ACTOR,
                                   reason=reason)
        self.metrics.files_received.labels(received.partner, "quarantined").inc()
        # The log gets the code and the location, not the message: a message may quote data.
        self.log.warning("file quarantined", partner=received.partner, file_id=received.id,
                         sha256=received.sha256, code=error.code,
                         segment_number=error.location.segment_number,
                         segment_id=error.location.segment_id,
                         byte_offset=error.location.byte_offset)
        self._acknowledge(received, error)

    def _numbered(self, stream: BinaryIO,
                  received: ReceivedFile) -> Iterator[tuple[int, ParsedDocument]]:
        yield from enumerate(self._parse(stream, received))
