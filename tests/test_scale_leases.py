"""Short leases kept alive by a heartbeat (issue 13): work that outlasts its lease keeps it,
and a dead holder's lease is taken over within one lease period (it was 900 s for a file)."""

from __future__ import annotations

import time

from gateway.daemon.leases import held

LEASE = 1.5  # seconds


def test_a_lease_outlives_its_length_while_the_work_runs(store):
    with held(store, "file:1", "host-a", LEASE) as lease:
        assert lease is not None
        time.sleep(3 * LEASE)  # three lease periods of work
        assert lease.alive
        assert not store.acquire_poll_lease("file:1", "host-b", LEASE)
    assert store.acquire_poll_lease("file:1", "host-b", LEASE)  # released at the end


def test_a_dead_holders_lease_is_taken_over_within_one_period(store):
    assert store.acquire_poll_lease("file:2", "host-a", LEASE)  # then host-a "dies"
    started = time.monotonic()
    while not store.acquire_poll_lease("file:2", "host-b", LEASE):
        assert time.monotonic() - started < LEASE + 1.0
        time.sleep(0.05)

