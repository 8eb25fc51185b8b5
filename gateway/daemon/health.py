"""The daemon's HTTP endpoint: ``/healthz`` for a supervisor, ``/metrics`` for Prometheus.

It listens on loopback by default: the metrics name partners and destinations, which is
nobody's business outside the host (put a reverse proxy with authentication in front if a
remote Prometheus must scrape it). The server runs in daemon threads and never touches the
store except through the callables it is given.

``/healthz`` answers 200 while the run loop has completed a cycle recently and the store
answers; otherwise 503 with the reason, so systemd's watchdog scripts or a load balancer can
act on it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: dict[str, object]


class HealthServer:
    """A small threaded HTTP server; ``port`` is the bound port (useful with port 0)."""

    def __init__(self, host: str, port: int, *, health: Callable[[], Health],
                 metrics: Callable[[], bytes]) -> None:
        handler = _handler_class(health, metrics)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
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


def _handler_class(health: Callable[[], Health],
                   metrics: Callable[[], bytes]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "gateway"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, metrics())
            elif path == "/healthz":
                state = health()
                body = json.dumps({"status": "ok" if state.ok else "unhealthy",
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
