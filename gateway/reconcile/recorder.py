"""The pipeline's claim recorder: a routed file's claim facts into the claims ledger.

Called once per file, after its deliveries are queued and before it is marked ``routed``
(:class:`gateway.daemon.pipeline.Pipeline`), so a crash in between redoes it — which the
ledger's idempotent ingest makes harmless. A store outage (StoreUnavailable) propagates: the
file stays unrouted and is redone when the store is back, like every other stage. A file the
ledger cannot take for another reason (a bug, a row the database refuses) never holds up the
file's deliveries: the failure is logged with ids only and recorded as a ``ledger-failed``
event on the file, visible in ``gateway trace``.
"""

from __future__ import annotations

from gateway.errors import StoreUnavailable
from gateway.log import get_logger
from gateway.reconcile.config import ReconcileConfig
from gateway.reconcile.facts import PharmacyOf
from gateway.reconcile.ledgers import open_ledger
from gateway.store.base import MessageStore
from gateway.store.models import ReceivedFile

ACTOR = "ledger"


class LedgerRecorder:
    def __init__(self, store: MessageStore, rules: ReconcileConfig,
                 pharmacy_of: PharmacyOf) -> None:
        self.store = store
        self.rules = rules
        self.pharmacy_of = pharmacy_of
        self.log = get_logger(component="ledger")

    def __call__(self, received: ReceivedFile) -> None:
        try:
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
