"""Step 1 of the walk, the idempotent receiver: a partner's ready files into the message store.

Fetch to a temp file (fsynced, hashed), record it (a second copy of the same bytes becomes a
``duplicate``), *then* acknowledge the partner's copy. A crash before the record re-fetches; a
crash after it re-records the same bytes as a duplicate.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.daemon.metrics import Metrics
from gateway.log import get_logger
from gateway.store.base import MessageStore

if TYPE_CHECKING:
    from gateway.daemon.runtime import PartnerRuntime

ACTOR = "pipeline"


@dataclass
class PollOutcome:
    """What one poll of one partner did."""

    partner: str
    received: list[int] = field(default_factory=list)  # new file ids
    duplicates: list[int] = field(default_factory=list)
    error: str | None = None


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
