"""Step 1 of the walk, the idempotent receiver: a partner's ready files into the message store.

Fetch to a temp file (fsynced, hashed), record it (a second copy of the same bytes becomes a
``duplicate``), *then* acknowledge the partner's copy. A crash before the record re-fetches; a
crash after it re-records the same bytes as a duplicate.

Each file is received on its own (issue 10, defect 9): one that cannot be fetched is logged,
counted and tried again at the next poll, and the partner's later files go on. A file already
recorded whose archive or delete at the partner failed is not fetched and recorded again (one
more ``duplicate`` row per poll): only its acknowledgment is tried again. Just before the
record, the partner's file is looked at once more (defect 11): if its size or mtime changed
since the listing, the writer had only paused; the fetched copy is dropped, the partner's kept,
and it is fetched again once stable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.daemon.metrics import Metrics
from gateway.errors import StoreUnavailable
from gateway.log import get_logger
from gateway.store.base import MessageStore
from gateway.store.models import ReceivedFile
from gateway.transport.base import RemoteFile

if TYPE_CHECKING:
    from gateway.daemon.runtime import PartnerRuntime

ACTOR = "pipeline"


@dataclass
class PollOutcome:
    """What one poll of one partner did."""

    partner: str
    received: list[int] = field(default_factory=list)  # new file ids
    duplicates: list[int] = field(default_factory=list)
    error: str | None = None  # the listing failed
    failed: list[str] = field(default_factory=list)  # names not received this time, and why


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
            try:
                self._receive_one(partner, remote, outcome)
            except StoreUnavailable:
                raise  # the daemon's outage, not the file's
            except Exception as exc:  # this file only: the partner's others go on
                outcome.failed.append(f"{remote.name}: {type(exc).__name__}")
                self.metrics.files_received.labels(partner.id, "failed").inc()
                self.log.warning("file not received; tried again at the next poll",
                                 partner=partner.id, error=type(exc).__name__,
                                 permanent=getattr(exc, "permanent", None))
        return outcome

    def _receive_one(self, partner: PartnerRuntime, remote: RemoteFile,
                     outcome: PollOutcome) -> None:
        fetched = partner.source.fetch(remote, self.work_dir)
        try:
            if partner.source.stat(remote) != remote:
                self.metrics.files_received.labels(partner.id, "changed").inc()
                self.log.warning("file changed since it was listed: kept at the partner, "
                                 "fetched again once stable", partner=partner.id,
                                 size=remote.size)
                return
            recorded = self._already_recorded(partner.id, remote.path, fetched.sha256)
            if recorded is not None:  # recorded before, its archive failed: archive only
                partner.source.acknowledge(remote)
                self.log.info("file archived at the partner after an earlier failure",
                              partner=partner.id, file_id=recorded.id)
                return
            receipt = self.store.record_received(
                partner=partner.id, remote_path=remote.path, original_name=remote.name,
                size=fetched.size, mtime=remote.mtime, sha256=fetched.sha256,
                payload_path=fetched.local_path, actor=ACTOR,
            )
        finally:
            fetched.local_path.unlink(missing_ok=True)
        received = receipt.file
        outcome_label = "duplicate" if receipt.duplicate else "accepted"
        (outcome.duplicates if receipt.duplicate else outcome.received).append(received.id)
        self.metrics.files_received.labels(partner.id, outcome_label).inc()
        self.log.info("file received", partner=partner.id, file_id=received.id,
                      sha256=received.sha256, size=received.size, outcome=outcome_label,
                      duplicate_of=received.duplicate_of)
        # Only now, with the bytes committed, may the partner's copy go.
        partner.source.acknowledge(remote)

    def _already_recorded(self, partner: str, path: str, sha256: str) -> ReceivedFile | None:
        """The file recorded from this path with these very bytes at an earlier poll whose
        archive or delete at the partner failed; None for anything else."""
        return next((known for known in self.store.files_from_path(partner, path)
                     if known.sha256 == sha256), None)
