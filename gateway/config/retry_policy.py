"""When a failed delivery is tried again, and when it goes to the dead letter state.

Exponential backoff with *full jitter* (AWS Architecture Blog, "Exponential Backoff and
Jitter"): the delay is uniform in ``[0, min(cap, base * 2**(attempt-1))]``. Full jitter spreads
the retries of many deliveries that failed together (a pharmacy's SFTP went down) instead of
hammering the partner in waves. A delivery is dead after ``max_attempts`` attempts or once it
has been in the queue longer than ``max_age``, whichever comes first; a permanent error (bad
host key, permission denied) is dead at once, because retrying cannot help.

Policies differ per destination (a pharmacy on a flaky DSL line gets more patience), hence
:class:`RetryPolicies`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 12
    max_age: timedelta = timedelta(days=3)
    base_delay: float = 30.0  # seconds before the first retry (upper bound of its jitter)
    max_delay: float = 3600.0  # the cap of one backoff step

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_delay < 0 or self.max_delay < self.base_delay:
            raise ValueError(f"inconsistent retry policy: {self}")

    def backoff(self, attempts: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after ``attempts`` attempts (full jitter)."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** max(attempts - 1, 0))
        return (rng or random).uniform(0.0, ceiling)

    def next_retry(
        self,
        attempts: int,
        age: timedelta,
        *,
        permanent: bool = False,
        rng: random.Random | None = None,
    ) -> float | None:
        """Seconds until the next attempt, or None when the delivery is dead."""
        if permanent or attempts >= self.max_attempts or age >= self.max_age:
            return None
        return self.backoff(attempts, rng)

    def exhausted(self, attempts: int, age: timedelta) -> bool:
        """True when a claimed delivery is already past the limits (its earlier attempts
        died with their workers, so nobody recorded a failure)."""
        return attempts > self.max_attempts or age >= self.max_age


@dataclass(frozen=True)
class RetryPolicies:
    """A default policy and overrides per destination."""

    default: RetryPolicy = field(default_factory=RetryPolicy)
    per_destination: Mapping[str, RetryPolicy] = field(default_factory=dict)

    def for_destination(self, destination: str) -> RetryPolicy:
        return self.per_destination.get(destination, self.default)
