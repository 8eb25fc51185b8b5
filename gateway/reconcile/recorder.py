"""The pipeline's claim recorder: a routed file's claim facts into the claims ledger.

Called once per file, after its deliveries are queued and before it is marked ``routed``
(:class:`gateway.daemon.pipeline.Pipeline`), so a crash in between redoes it — which the
ledger's idempotent ingest makes harmless. A store outage (StoreUnavailable) propagates: the
file stays unrouted and is redone when the store is back, like every other stage. A file the
ledger cannot take for another reason (a bug, a row the database refuses) never holds up the
file's deliveries: the failure is logged with ids only and recorded as a ``ledger-failed``
event on the file, visible in ``gateway trace``.

**One read of the file, not two.** The parse stage reads every 835 with the reader anyway;
:meth:`LedgerRecorder.listen` gives it a sink for those items, which turns them into facts
and writes them in batches while the file is parsed (the file ``ingesting``: no report sees
the rows). Once the file is routed, the call completes that ingest. Whenever the items did not
all arrive in this process — the daemon restarted between parse and route, the file is NCPDP,
the sink failed — the call reads the file itself, as before, deleting any partial rows first.
"""

from __future__ import annotations

import contextlib

from gateway.errors import StoreUnavailable
from gateway.log import get_logger
from gateway.reconcile.config import ReconcileConfig
from gateway.reconcile.facts import PharmacyOf, X12Facts
from gateway.reconcile.ledger import Ingest, Ledger
from gateway.reconcile.ledgers import open_ledger
from gateway.store.base import MessageStore
from gateway.store.models import ReceivedFile
from gateway.x12.read.transaction import Item

ACTOR = "ledger"


class LedgerRecorder:
    def __init__(self, store: MessageStore, rules: ReconcileConfig,
                 pharmacy_of: PharmacyOf) -> None:
        self.store = store
        self.rules = rules
        self.pharmacy_of = pharmacy_of
        self.log = get_logger(component="ledger")
        self._listening: _Listening | None = None

    def listen(self, received: ReceivedFile) -> _Listening:
        """A sink for the items of ``received`` as the parse stage reads them (one file at a
        time: a file whose ingest was never completed — it was quarantined — is discarded)."""
        self.discard()
        self._listening = _Listening(self, received)
        return self._listening

    def discard(self) -> None:
        """Drop the ingest of a file that will not be routed (its rows out again)."""
        listening, self._listening = self._listening, None
        if listening is not None:
            listening.close(keep=False)

    def __call__(self, received: ReceivedFile) -> None:
        listening, self._listening = self._listening, None
        try:
            if (listening is not None and listening.file_id == received.id
                    and listening.complete()):
                return
            with open_ledger(self.store) as ledger, \
                    self.store.open_payload(received.sha256) as stream:
                ledger.record_file(received, stream, self.rules, self.pharmacy_of)
        except StoreUnavailable:
            raise  # an outage, not this file's fault: the daemon waits it out and redoes it
        except Exception as exc:
            self.log.exception("claims ledger failed; the file is routed all the same",
                               file_id=received.id, partner=received.partner,
                               error=type(exc).__name__)
            self.store.record_event("file", received.id, "ledger-failed", actor=ACTOR,
                                    reason=type(exc).__name__)


class _Listening:
    """The ledger side of one parse: facts out of the items, batches into the ledger. It
    never raises into the parse: a failure is logged and the recorder reads the file later."""

    def __init__(self, recorder: LedgerRecorder, received: ReceivedFile) -> None:
        self.recorder, self.file_id = recorder, received.id
        self.facts = X12Facts(received.id, received.partner, recorder.rules,
                              recorder.pharmacy_of)
        self.ledger: Ledger | None = None
        self.ingest: Ingest | None = None
        self.state = "waiting"  # waiting -> ingesting | skipped | broken

    def __call__(self, item: Item) -> None:
        if self.state == "ingesting" and self.ingest is not None:
            try:
                for fact in self.facts.of(item):
                    self.ingest.add(fact)
            except Exception as exc:
                self._broken(exc)
        elif self.state == "waiting":
            self._start()
            self(item)

    def _start(self) -> None:
        try:
            self.ledger = open_ledger(self.recorder.store)
            self.ingest = self.ledger.begin(self.file_id, "835")
            self.state = "ingesting" if self.ingest is not None else "skipped"
        except Exception as exc:
            self._broken(exc)

    def complete(self) -> bool:
        """Complete the ingest made during the parse; False: read the file instead."""
        try:
            if self.state == "skipped":
                return True
            if self.state != "ingesting" or self.ingest is None:
                return False
            self.ingest.complete()
            return True
        finally:
            self.close(keep=True)

    def close(self, *, keep: bool) -> None:
        try:
            if not keep and self.state == "ingesting" and self.ingest is not None:
                self.ingest.discard()
        except Exception as exc:  # the rows stay "ingesting": no report sees them
            self.recorder.log.warning("ledger rows of an unrouted file not discarded",
                                      file_id=self.file_id, error=type(exc).__name__)
        finally:
            self.state = "broken" if self.state == "ingesting" and not keep else self.state
            if self.ledger is not None:
                self.ledger.close()
                self.ledger = None

    def _broken(self, exc: Exception) -> None:
        self.recorder.log.warning("ledger ingest during the parse failed; read again later",
                                  file_id=self.file_id, error=type(exc).__name__)
        self.state = "broken"
        if self.ledger is not None:
            with contextlib.suppress(Exception):  # already failing: the warning says so
                self.ledger.close()
            self.ledger = None
