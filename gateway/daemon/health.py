"""The daemon's HTTP endpoint: ``/healthz`` for a supervisor, ``/metrics`` for Prometheus.

It listens on loopback by default: the metrics name partners and destinations, which is
nobody's business outside the host (put a reverse proxy with authentication in front if a
remote Prometheus must scrape it). The server runs in daemon threads and never touches the
store except through the callables it is given.

``/healthz`` answers 200 while the run loop has completed a cycle recently and the store
answers; otherwise 503 with the reason, so systemd's watchdog scripts or a load balancer can
act on it. A daemon that works but needs a person — a refused reload, an alert channel
failing, a partner whose polls keep failing, a disk nearly full — is ``degraded``: still 200
(restarting it would not help), with the reasons (:func:`degraded_reasons`).

The server is small on purpose: GET of those two paths and nothing else, at most
``max_connections`` at a time (one thread each; a further connection is closed at once —
1,500 idle connections made 1,500 threads before), each closed after ``idle_seconds`` without
a byte, a ``Server`` header without the Python version, and a warning when it listens beyond
loopback. The console has its own server.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import socket
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST

from gateway.daemon.outages import Outage, Subject, SubjectKind
from gateway.log import get_logger

DISK_LOW_BYTES = 256 << 20  # free space below this in the work or data folder: degraded
FAILING_POLLS = 2  # a partner's polls failing this many times in a row: degraded
MAX_CONNECTIONS = 16  # a Prometheus, a supervisor and an operator's curl need a handful
IDLE_SECONDS = 5.0


@dataclass(frozen=True)
class Health:
    ok: bool  # False: 503 ("unhealthy")
    detail: dict[str, object]
    degraded: tuple[str, ...] = ()  # reasons a person should look; with ok: 200 "degraded"

    @property
    def status(self) -> str:
        if not self.ok:
            return "unhealthy"
        return "degraded" if self.degraded else "ok"


def degraded_reasons(*, reload_refused: str | None, alert_channels: Mapping[str, str],
                     outages: Mapping[Subject, Outage], folders: Iterable[Path],
                     disk_low_bytes: int) -> list[str]:
    """Why a person should look although the daemon works: a refused reload, a failing
    alert channel, a partner whose polls keep failing, a folder on a disk nearly full."""
    reasons = []
    if reload_refused is not None:
        reasons.append(f"reload refused, running the previous configuration: {reload_refused}")
    for channel, why in sorted(alert_channels.items()):
        reasons.append(f"alert channel {channel} failing: {why}")
    for subject, outage in sorted(outages.items()):
        if subject.kind is SubjectKind.PARTNER and outage.failures >= FAILING_POLLS:
            reasons.append(f"partner {subject.id}: {outage.failures} "
                           f"polls in a row failed: {outage.last_reason}")
    for folder in folders:
        try:
            free = shutil.disk_usage(folder).free
        except OSError:
            continue  # not made yet: nothing written there either
        if free < disk_low_bytes:
            reasons.append(f"disk nearly full: {free >> 20} MiB free for {folder}")
    return reasons


class HealthServer:
    """A small threaded HTTP server; ``port`` is the bound port (useful with port 0)."""

    def __init__(self, host: str, port: int, *, health: Callable[[], Health],
                 metrics: Callable[[], bytes], max_connections: int = MAX_CONNECTIONS,
                 idle_seconds: float = IDLE_SECONDS) -> None:
        handler = _handler_class(health, metrics, idle_seconds)
        self._server = _BoundedServer((host, port), handler, max_connections)
        if not is_loopback(host):
            get_logger(component="http").warning(
                "metrics and health listen beyond loopback", listen=f"{host}:{port}",
                fix='they name partners and destinations: listen = "127.0.0.1:PORT" and a '
                    "reverse proxy with authentication for a remote scraper")
        # The bound address (port 0 becomes the real port); server_address holds the same,
        # but typeshed types it as any address the constructor accepts, bytes included.
        bound = self._server.socket.getsockname()
        self.host: str = bound[0]
        self.port: int = bound[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="http",
                                        daemon=True)

    def start(self) -> HealthServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


class _BoundedServer(ThreadingHTTPServer):
    """A thread per connection, but at most ``max_connections`` of them: one more is
    closed as soon as it is accepted."""

    daemon_threads = True
    request_queue_size = 128  # accepted (and closed, beyond the limit) fast: no SYN drops

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler],
                 max_connections: int) -> None:
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, handler)

    def verify_request(self, request: Any, client_address: Any) -> bool:
        return self._slots.acquire(blocking=False)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or a name) is only loopback (``gateway check`` warns too)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return all(ipaddress.ip_address(info[4][0]).is_loopback
                   for info in socket.getaddrinfo(host, None))


def _handler_class(health: Callable[[], Health], metrics: Callable[[], bytes],
                   idle_seconds: float) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "gateway"
        timeout = idle_seconds  # a connection silent this long is closed

        def version_string(self) -> str:
            return self.server_version  # never the Python version

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, metrics())
            elif path == "/healthz":
                state = health()
                body = json.dumps({"status": state.status, "degraded": list(state.degraded),
                                   **state.detail}, default=str).encode()
                self._send(200 if state.ok else 503, "application/json", body)
            else:
                self._send(404, "text/plain", b"not found: try /healthz or /metrics\n")

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Scrapes every 15 s are not news: stay quiet (the default writes to stderr)."""

    return Handler
