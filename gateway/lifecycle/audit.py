"""A file's whole trail, live or rolled up: what ``gateway trace`` prints.

After ``rollup_days`` a file's delivery rows and events live in the audit table
(gateway/store/retention.py) and its payload may be pruned; the file row and its documents
stay. :class:`FileTrail` puts the two halves back together, so ``trace`` answers the same
question for a file of yesterday and one of six years ago.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gateway.store.base import MessageStore
from gateway.store.errors import NotFound
from gateway.store.models import Delivery, Event
from gateway.store.retention import AuditTrail, open_retention


@dataclass(frozen=True)
class FileTrail:
    deliveries: list[Delivery]
    events: dict[tuple[str, str], list[Event]]
    audit: AuditTrail | None
    payload_pruned_at: datetime | None

    @classmethod
    def of(cls, store: MessageStore, file_id: int) -> FileTrail:
        with open_retention(store) as retention:
            audit = retention.trail(file_id)
            pruned = retention.pruned(store.get_file(file_id).sha256)
        deliveries = store.deliveries_of_file(file_id) + (audit.deliveries if audit else [])
        events: dict[tuple[str, str], list[Event]] = {}
        for event in audit.events if audit else []:
            events.setdefault((event.entity_type, event.entity_id), []).append(event)
        return cls(sorted(deliveries, key=lambda d: d.id), events, audit, pruned)

    def events_of(self, store: MessageStore, entity_type: str, entity_id: int) -> list[Event]:
        """Rolled-up events first (they are the older), then live ones."""
        return (self.events.get((entity_type, str(entity_id)), [])
                + store.events(entity_type, entity_id))


def file_of_delivery(store: MessageStore, delivery_id: int) -> int:
    """The file a delivery belongs to, live or rolled up."""
    try:
        return store.get_document(store.get_delivery(delivery_id).document_id).file_id
    except NotFound:
        with open_retention(store) as retention:
            found = retention.file_of_delivery(delivery_id)
        if found is None:
            raise
        return found
