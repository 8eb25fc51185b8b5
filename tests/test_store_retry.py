"""The retry policy: exponential backoff with full jitter, then the dead letter state."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from gateway.store import RetryPolicies, RetryPolicy


def test_backoff_is_full_jitter_under_an_exponential_ceiling():
    policy = RetryPolicy(base_delay=10, max_delay=300)
    rng = random.Random(7)
    for attempts, ceiling in [(1, 10), (2, 20), (3, 40), (5, 160), (6, 300), (30, 300)]:
        delays = [policy.backoff(attempts, rng) for _ in range(400)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > 0.9 * ceiling and min(delays) < 0.1 * ceiling  # spread, not waves


def test_limits_send_a_delivery_to_the_dead_letter_state():
    policy = RetryPolicy(max_attempts=3, max_age=timedelta(hours=1))
    young = timedelta(minutes=5)
    assert policy.next_retry(1, young) is not None
    assert policy.next_retry(3, young) is None  # attempts used up
    assert policy.next_retry(1, timedelta(hours=2)) is None  # too old
    assert policy.next_retry(1, young, permanent=True) is None  # retrying cannot help
    assert not policy.exhausted(3, young) and policy.exhausted(4, young)


def test_policies_per_destination_and_nonsense_refused():
    patient = RetryPolicy(max_attempts=50)
    policies = RetryPolicies(per_destination={"pharmacy-dsl": patient})
    assert policies.for_destination("pharmacy-dsl") is patient
    assert policies.for_destination("anyone") == RetryPolicy()
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
