"""Whether each partner answers its polls, told once per outage and kept as events.

A failed poll is an :class:`~gateway.daemon.outages.Outage` of ``partner:<id>`` (one log line
when it starts, one when it ends). After ``threshold`` failed polls in a row the partner gets
an ``unreachable`` event, and the first good poll after that a ``reachable`` one: the
partner-unreachable alert reads those events, so it survives a restart and works when
several daemons share a store. A daemon restarted during an outage does not remember it, so
the first good poll after a start looks at the store before saying nothing.
"""

from __future__ import annotations

from gateway.daemon.outages import Outages, Subject
from gateway.errors import GatewayError
from gateway.store.base import MessageStore

ACTOR = "daemon"
EVENTS = ("unreachable", "reachable")


class Reachability:
    def __init__(self, outages: Outages, threshold: int) -> None:
        self.outages = outages
        self.threshold = threshold
        self._confirmed: set[str] = set()  # partners polled well since this daemon started

    def failed(self, store: MessageStore, partner: str, error: BaseException) -> None:
        reason = describe(error)
        outage = self.outages.failed(Subject.partner(partner), reason, partner=partner)
        if outage.failures == self.threshold:
            store.record_event("partner", partner, "unreachable", actor=ACTOR,
                               reason=f"{outage.failures} polls in a row failed; {reason}")
        self._confirmed.discard(partner)

    def succeeded(self, store: MessageStore, partner: str) -> None:
        ended = self.outages.succeeded(Subject.partner(partner), partner=partner)
        if partner in self._confirmed:
            return
        self._confirmed.add(partner)
        long_outage = ended is not None and ended.failures >= self.threshold
        if long_outage or _last_said_unreachable(store, partner):
            store.record_event("partner", partner, "reachable", actor=ACTOR,
                               reason="a poll succeeded")


def describe(error: BaseException) -> str:
    """The error's class and what happened, without the fix text (ids and codes only)."""
    what = error.what if isinstance(error, GatewayError) else str(error)
    return f"{type(error).__name__}: {what}"[:300]


def _last_said_unreachable(store: MessageStore, partner: str) -> bool:
    said = [e.action for e in store.events("partner", partner) if e.action in EVENTS]
    return bool(said) and said[-1] == "unreachable"
