"""The alert engine the daemon runs on its cycle: evaluate the rules, then send what is due.

**Evaluate** (every ``check_seconds``): each rule's conditions now against the open alerts in
the store. A new condition opens an alert, a condition gone resolves it, each with a notice
per channel and an event; a condition that only changed (three dead letters, then five)
updates its summary without telling anyone again. That is the de-duplication: one alert per
condition until it clears, then one "resolved".

**Dispatch**: per channel, the due notices, at most ``max_per_hour`` messages an hour; when
more are due than the hour allows, they go as one digest. A channel that fails keeps its
notices (retried with backoff, up to 15 minutes apart) and is logged once until it works.

With a shared PostgreSQL store only the daemon holding the ``alerts`` lease does this, so
two daemons never race to send the same notice.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.alerts.channels import Channel, channels_of
from gateway.alerts.rules import conditions
from gateway.config.alerting import AlertSettings
from gateway.log import get_logger
from gateway.store.alerts import Notice
from gateway.store.base import MessageStore

LEASE = "alerts"
HOUR = 3600.0
RETRY_FIRST, RETRY_CAP = 30.0, 900.0


@dataclass(frozen=True)
class Evaluation:
    opened: int = 0
    resolved: int = 0
    updated: int = 0


class AlertEngine:
    def __init__(self, settings: AlertSettings, *, holder: str,
                 channels: Sequence[Channel] | None = None) -> None:
        self.settings = settings
        self.holder = holder
        self.channels = list(channels if channels is not None
                             else channels_of(settings.mail, settings.webhook))
        self.failing: dict[str, str] = {}  # channel -> why it failed last (for /healthz)
        self.log = get_logger(component="alerts")
        self._next = 0.0  # monotonic time of the next evaluation

    def tick(self, store: MessageStore) -> bool:
        """Evaluate and dispatch when ``check_seconds`` have passed; True when it ran."""
        if time.monotonic() < self._next:
            return False
        self._next = time.monotonic() + self.settings.check_seconds
        return self.run(store)

    def run(self, store: MessageStore) -> bool:
        """Evaluate and dispatch now, if this daemon holds (or takes) the alerts lease."""
        lease = max(60.0, 3.0 * self.settings.check_seconds)
        if not store.acquire_poll_lease(LEASE, self.holder, lease):
            return False
        self.evaluate(store)
        self.dispatch(store)
        return True

    def evaluate(self, store: MessageStore) -> Evaluation:
        now = time.time()
        names = [channel.name for channel in self.channels]
        found = conditions(store.alerts, self.settings.rules)
        opened = resolved = updated = 0
        open_now = {alert.key: alert for alert in store.alerts.open()}
        for key, condition in found.items():
            alert = open_now.get(key)
            if alert is None:
                if store.alerts.raise_alert(condition, names, now) is not None:
                    opened += 1
                    self.log.warning("alert opened", rule=condition.rule,
                                     entity_type=condition.entity_type,
                                     entity_id=condition.entity_id, count=condition.count)
            elif (alert.summary, alert.count) != (condition.summary, condition.count):
                store.alerts.update(alert, condition)
                updated += 1
        for key, alert in open_now.items():
            watched = alert.rule in self.settings.rules  # a rule switched off resolves nothing
            if key not in found and watched and store.alerts.resolve(alert, names, now):
                resolved += 1
                self.log.info("alert resolved", rule=alert.rule,
                              entity_type=alert.entity_type, entity_id=alert.entity_id)
        return Evaluation(opened, resolved, updated)

    def dispatch(self, store: MessageStore) -> int:
        """Send what is due on every channel; return how many messages went out."""
        sent = 0
        for channel in self.channels:
            sent += self._dispatch(store, channel)
        return sent

    def _dispatch(self, store: MessageStore, channel: Channel) -> int:
        now = time.time()
        due = store.alerts.due(channel.name, now)
        if not due:
            return 0
        budget = self.settings.max_per_hour - store.alerts.messages_since(channel.name, HOUR,
                                                                          now)
        if budget <= 0:
            return 0  # they wait for the hour to roll on; nothing is dropped
        batches = [[notice] for notice in due] if len(due) <= budget else [due]
        sent = 0
        for batch in batches:
            try:
                channel.send(batch, self.settings.instance)
            except Exception as exc:
                self._failed(store, channel.name, due[sent:], exc, now)
                return sent
            store.alerts.sent(channel.name, batch, time.time())
            sent += 1
        if self.failing.pop(channel.name, None) is not None:
            self.log.info("alert channel works again", channel=channel.name)
        return sent

    def _failed(self, store: MessageStore, channel: str, notices: Sequence[Notice],
                error: Exception, now: float) -> None:
        """Keep the notices for later; say so once per streak of failures."""
        reason = f"{type(error).__name__}: {error}"
        attempts = max(notice.attempts for notice in notices)
        store.alerts.failed(notices, reason, min(RETRY_CAP, RETRY_FIRST * 2 ** attempts), now)
        if channel not in self.failing:
            self.log.warning("alert channel failed; retrying later", channel=channel,
                             waiting=len(notices), reason=reason)
        self.failing[channel] = reason
