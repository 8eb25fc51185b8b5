"""The HTTP endpoint on a real socket: /healthz, /metrics parsed back with prometheus' parser."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from gateway.daemon.health import Health, HealthServer
from gateway.daemon.metrics import Metrics, QueueSnapshot, parse_exposition


def test_metrics_and_health_over_http():
    snapshot = QueueSnapshot(by_state={"pending": 3, "delivered": 5},
                             depth={"pharmacy-1": 3}, oldest_age={"pharmacy-1": 42.5})
    metrics = Metrics(snapshot=lambda: snapshot)
    metrics.files_received.labels("pbm-a", "accepted").inc(2)
    metrics.last_poll.labels("pbm-a").set(1_700_000_000)
    healthy = {"ok": True}
    server = HealthServer("127.0.0.1", 0, metrics=metrics.exposition,
                          health=lambda: Health(healthy["ok"], {"cycles": 1})).start()
    try:
        with urllib.request.urlopen(server.url + "/metrics", timeout=5) as response:
            samples = parse_exposition(response.read().decode())
        assert samples[("gateway_files_received_total",
                        (("outcome", "accepted"), ("partner", "pbm-a")))] == 2
        assert samples[("gateway_deliveries", (("state", "pending"),))] == 3
        assert samples[("gateway_queue_oldest_pending_seconds",
                        (("destination", "pharmacy-1"),))] == 42.5
        with urllib.request.urlopen(server.url + "/healthz", timeout=5) as response:
            assert json.load(response)["status"] == "ok"
        healthy["ok"] = False
        try:
            urllib.request.urlopen(server.url + "/healthz", timeout=5)
            raise AssertionError("expected 503")
        except urllib.error.HTTPError as exc:
            assert exc.code == 503
    finally:
        server.stop()


def test_each_daemon_has_its_own_registry():
    first, second = Metrics(), Metrics()
    first.cycles.inc()
    assert b"gateway_cycles_total 1.0" in first.exposition()
    assert b"gateway_cycles_total 0.0" in second.exposition()


def test_degraded_is_200_with_its_reasons_and_gateway_status_says_so(tmp_path):
    from gateway.cli.ops import _daemon_line
    from gateway.config.settings import load_settings

    reason = "reload refused, running the previous configuration: 1 problem(s) in x.toml:3"
    server = HealthServer("127.0.0.1", 0, metrics=lambda: b"",
                          health=lambda: Health(True, {"cycles": 4}, (reason,))).start()
    try:
        with urllib.request.urlopen(server.url + "/healthz", timeout=5) as response:
            assert response.status == 200
            assert json.load(response) == {"status": "degraded", "degraded": [reason],
                                           "cycles": 4}
        config = tmp_path / "gateway.toml"
        config.write_text(f'[http]\nlisten = "127.0.0.1:{server.port}"\n')
        line = _daemon_line(load_settings(config))
        assert line.startswith("daemon: running, DEGRADED") and reason in line
    finally:
        server.stop()
