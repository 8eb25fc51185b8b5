"""The message store's own errors: a lease that no longer holds, an id it does not hold.

Both are :class:`gateway.errors.StoreError`, so a caller that handles store failures handles
them; they are told apart because each asks for a different response (redo nothing; check
the id).
"""

from __future__ import annotations

from gateway.errors import StoreError


class LeaseLost(StoreError):
    """A heartbeat, ack or failure came with a token that no longer holds the lease.

    Nothing was changed: another worker has (or will) redo the delivery, and the deterministic
    output name makes that redo overwrite rather than duplicate.
    """

    def __init__(self, delivery_id: int) -> None:
        self.delivery_id = delivery_id
        super().__init__(
            "the lease on this delivery expired or was taken over; nothing was changed",
            where=f"delivery {delivery_id}",
            fix="none needed; if this is frequent, lengthen the lease or the heartbeat rate",
        )


class NotFound(StoreError):
    """An id that the store does not hold."""

    def __init__(self, entity: str, entity_id: object) -> None:
        super().__init__(
            f"there is no {entity} {entity_id}",
            fix=_HINTS.get(entity, _HINTS["delivery"]),
        )


_HINTS = {  # where the operator finds the right id
    "delivery": "check the id (e.g. with `gateway deliveries list` or `gateway trace`)",
    "file": "check the id (e.g. with `gateway files list` or `gateway trace`)",
    "user": "check the account name (`gateway users list`)",
}
