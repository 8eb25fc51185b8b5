"""Delivery configuration that keeps its promises (issue 10, defects 13 and 14)."""

from __future__ import annotations

from datetime import timedelta

import paramiko
import pytest
from test_delivery_worker import FlakySink, queue_one

from gateway.config.settings import load_settings
from gateway.daemon.deliver import DeliveryWorker, run_until_idle
from gateway.daemon.pool import DeliveryPool
from gateway.daemon.runtime import build_runtime
from gateway.errors import ConfigError
from gateway.ops.demo import folder_workspace
from gateway.store import DeliveryState, RetryPolicies, RetryPolicy
from gateway.transport.faults import classify

FAST = RetryPolicies(RetryPolicy(max_attempts=5, base_delay=0.0, max_delay=0.0))


def test_defect_14_an_unknown_destination_is_dead_lettered_not_retried(store, tmp_path):
    config, _samples = folder_workspace(tmp_path / "ws")
    runtime = build_runtime(load_settings(config))
    delivery = queue_one(store, destination="partner:no-such-pbm")
    sinks = runtime.sinks()
    try:
        (outcome,) = run_until_idle(DeliveryWorker(store, sinks, policies=FAST, worker_id="w"))
    finally:
        sinks.close()
        runtime.close()
    assert outcome.state == "dead"
    after = store.get_delivery(delivery.id)
    assert after.state is DeliveryState.DEAD and after.attempts == 1
    assert "ConfigError" in (after.last_error or "")


def test_defect_14_retry_policies_come_from_gateway_toml(tmp_path):
    config, _samples = folder_workspace(tmp_path / "ws")
    with config.open("a") as toml:
        toml.write('[retry]\nmax_attempts = 4\nmax_age_hours = 6\nbase_delay_seconds = 5\n'
                   '[retry.destinations."partner:demo-pbm"]\nmax_attempts = 40\n')
    settings = load_settings(config)
    assert settings.retry.default == RetryPolicy(max_attempts=4, max_age=timedelta(hours=6),
                                                 base_delay=5.0, max_delay=3600.0)
    pbm = settings.retry.for_destination("partner:demo-pbm")
    assert (pbm.max_attempts, pbm.base_delay) == (40, 5.0)  # the rest from [retry]
    pool = DeliveryPool(settings, runtime=lambda: build_runtime(settings), metrics=None,
                        stopping=None, name="t", outages=None)  # type: ignore[arg-type]
    worker, store, sinks = pool._worker("w")
    try:
        assert worker.policies is settings.retry  # the daemon's workers use them
    finally:
        sinks.close()
        store.close()

    config.write_text(config.read_text().replace("max_attempts = 40", "max_atempts = 40"))
    with pytest.raises(ConfigError) as refused:
        load_settings(config)
    assert "max_atempts" in str(refused.value) and "gateway.toml:" in str(refused.value)


def test_defect_13_a_stalled_login_is_transient_not_a_refusal(store, tmp_path):
    """paramiko says "Authentication timeout." when the server stalls during the login: the
    delivery is retried, not dead-lettered as if our key had been refused."""
    stalled = classify(paramiko.AuthenticationException("Authentication timeout."),
                       where="sftp:pharmacy-9", doing="connecting")
    assert stalled.permanent is False
    refused = classify(paramiko.AuthenticationException("Authentication failed."),
                       where="sftp:pharmacy-9", doing="connecting")
    assert refused.permanent is True
    delivery = queue_one(store)
    sink = FlakySink(tmp_path / "out", failures=1, error=stalled)
    worker = DeliveryWorker(store, lambda _d: sink, policies=FAST, worker_id="w",
                            tries_per_attempt=1)
    outcomes = run_until_idle(worker)
    assert [o.state for o in outcomes][-1] == "delivered"
    assert store.get_delivery(delivery.id).state is DeliveryState.DELIVERED

