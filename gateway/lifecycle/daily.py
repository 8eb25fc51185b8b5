"""The daemon's daily prune: once a day after ``[retention] daily_at`` (gateway time zone),
whichever daemon on the store gets there first (the last run is an event in the store)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from gateway.config.settings import Settings
from gateway.lifecycle.prune import PruneReport, due, last_run, prune
from gateway.lifecycle.sweep import SweepReport, folder_destinations, sweep
from gateway.store.base import MessageStore


def prune_if_due(store: MessageStore, settings: Settings, destinations: Iterable[str],
                 now: datetime) -> tuple[PruneReport, SweepReport] | None:
    """Run prune and sweep when the day's run is due; None when it was not."""
    policy = settings.retention
    if not due(policy.daily_at, now, last_run(store), settings.timezone):
        return None
    report = prune(store, policy, now, actor="daemon")
    wanted = [d.destination for d in store.queue_depth()] + list(destinations)
    swept = sweep(store, folder_destinations(wanted), settings.work_dir, policy.at(now).sweep)
    return report, swept
