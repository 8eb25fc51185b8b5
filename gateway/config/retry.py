"""``[retry]`` in gateway.toml: how long the delivery queue keeps trying, per destination.

    [retry]                      # every destination (the defaults shown)
    max_attempts = 12
    max_age_hours = 72
    base_delay_seconds = 30      # upper bound of the first retry's jitter, doubling per try
    max_delay_seconds = 3600
    [retry.destinations."sftp:pharmacy-12:/inbound"]
    max_attempts = 40            # a pharmacy on a flaky line gets more patience

A destination is written as in members.csv (``folder:/dir``, ``sftp:<id>:/dir``) or
``partner:<id>`` for a PBM's acknowledgments; what a destination's table leaves out comes
from ``[retry]``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from gateway.config.retry_policy import RetryPolicies, RetryPolicy
from gateway.config.toml_reader import TomlReader

KEYS = {"max_attempts", "max_age_hours", "base_delay_seconds", "max_delay_seconds"}


class RetryReader(TomlReader):
    """Validates ``[retry]`` and ``[retry.destinations."<destination>"]``."""

    def policies(self) -> RetryPolicies:
        table = self._table("retry")
        self._known(table, "retry", KEYS | {"destinations"})
        own = {key: value for key, value in table.items() if key != "destinations"}
        default = self._policy(own, "retry", RetryPolicy())
        destinations = self._table("retry.destinations", table)
        per_destination = {}
        for name, value in destinations.items():
            tname = f'retry.destinations."{name}"'
            if not isinstance(value, dict):
                self._fail("retry.destinations", name, "must be a table",
                           f"write it as a [{tname}] section")
            per_destination[name] = self._policy(value, tname, default)
        return RetryPolicies(default, per_destination)

    def _policy(self, table: dict[str, Any], tname: str, base: RetryPolicy) -> RetryPolicy:
        self._known(table, tname, KEYS)
        hours = round(base.max_age.total_seconds() / 3600)
        policy = replace(
            base,
            max_attempts=self._int(table, tname, "max_attempts", base.max_attempts,
                                   low=1, high=1000),
            max_age=timedelta(hours=self._int(table, tname, "max_age_hours", hours,
                                              low=1, high=24 * 365)),
            base_delay=float(self._int(table, tname, "base_delay_seconds",
                                       int(base.base_delay), low=0, high=86_400)),
            max_delay=float(self._int(table, tname, "max_delay_seconds", int(base.max_delay),
                                      low=1, high=7 * 86_400)))
        if policy.max_delay < policy.base_delay:
            self._fail(tname, "max_delay_seconds", "must not be less than base_delay_seconds",
                       "raise max_delay_seconds or lower base_delay_seconds")
        return policy
