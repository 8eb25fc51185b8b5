"""The metrics/health server (issue 13, Security): bounded connections and idle time, a
warning on a non-loopback listen, no Python version in the Server header, nothing but
/metrics and /healthz. On main 1,500 idle connections made 1,500 threads."""

from __future__ import annotations

import http.client
import socket
import threading
import time

import pytest
import structlog.testing

from gateway.daemon.health import Health, HealthServer


def _server(host: str = "127.0.0.1", **limits: float) -> HealthServer:
    return HealthServer(host, 0, health=lambda: Health(True, {"cycles": 1}),
                        metrics=lambda: b"gateway_up 1\n", **limits).start()


def _get(server: HealthServer, path: str, method: str = "GET") -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    conn.request(method, path)
    return conn.getresponse()


def _hold(server: HealthServer, count: int) -> list[socket.socket]:
    idle = [socket.create_connection((server.host, server.port), timeout=10)
            for _ in range(count)]
    time.sleep(0.2)  # let the accept loop see them all
    return idle


def test_idle_connections_do_not_make_a_thread_each():
    server = _server()  # the defaults, as the daemon runs it
    before = threading.active_count()
    idle = _hold(server, 300)
    try:
        assert threading.active_count() - before <= 16 + 1
    finally:
        for conn in idle:
            conn.close()
        server.stop()


def test_idle_connections_are_closed_and_health_answers_again():
    server = _server(max_connections=8, idle_seconds=0.5)
    idle = _hold(server, 50)
    try:
        started = time.monotonic()
        assert idle[0].recv(1) == b""  # the server closed it once idle
        assert time.monotonic() - started < 5
    finally:
        for conn in idle:
            conn.close()
    deadline = time.monotonic() + 10
    while True:  # once the idle ones are gone, health answers again
        try:
            assert _get(server, "/healthz").status == 200
            break
        except (ConnectionError, http.client.HTTPException):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    server.stop()


def test_the_server_header_names_no_python_version_and_only_two_paths_are_served():
    server = _server()
    try:
        response = _get(server, "/metrics")
        assert response.status == 200 and response.read() == b"gateway_up 1\n"
        assert response.getheader("Server") == "gateway"
        assert "Python" not in (response.getheader("Server") or "")
        assert _get(server, "/healthz").status == 200
        for path in ("/", "/console", "/metrics/../etc/passwd", "/healthz/x"):
            assert _get(server, path).status == 404, path
        for method in ("POST", "PUT", "DELETE"):
            refused = _get(server, "/metrics", method)
            assert refused.status == 501
            assert "Python" not in (refused.getheader("Server") or "")
    finally:
        server.stop()


@pytest.mark.parametrize(("host", "warned"), [("0.0.0.0", True), ("127.0.0.1", False)])
def test_a_listen_beyond_loopback_is_warned_about(host, warned):
    with structlog.testing.capture_logs() as logs:
        server = _server(host)
    server.stop()
    warnings = [e for e in logs if e["log_level"] == "warning" and "loopback" in e["event"]]
    assert bool(warnings) is warned
