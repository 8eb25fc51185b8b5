"""The console under uvicorn, in a thread of the daemon (``gateway run``, not ``--once``).

The daemon's SIGTERM stops the main loop; :meth:`ConsoleServer.stop` then asks uvicorn to
finish the requests in flight and close. uvicorn installs no signal handlers off the main
thread, so the daemon's own handlers stay in charge.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from gateway.console.app import ConsoleHost, create_app
from gateway.daemon.loop import Daemon
from gateway.errors import ConfigError
from gateway.log import get_logger

START_SECONDS = 10.0


class ConsoleServer:
    def __init__(self, host: ConsoleHost) -> None:
        settings = host.console
        if settings.listen is None:
            raise ConfigError("the console is off", where="[console] listen")
        address, port = settings.listen
        config = uvicorn.Config(
            create_app(host), host=address, port=port, log_config=None, access_log=False,
            ssl_certfile=str(settings.tls_cert) if settings.tls_cert else None,
            ssl_keyfile=str(settings.tls_key) if settings.tls_key else None,
            timeout_graceful_shutdown=5)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="console", daemon=True)
        scheme = "https" if settings.tls_cert else "http"
        self.url = f"{scheme}://{address}:{port}"
        self.log = get_logger(component="console")

    def start(self) -> ConsoleServer:
        """Serve; raise ConfigError when the address cannot be bound (in use, not ours)."""
        self._thread.start()
        deadline = time.monotonic() + START_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ConfigError(f"the console could not listen on {self.url}",
                                  where="[console] listen",
                                  fix="pick a free address, or listen = \"off\"")
            time.sleep(0.02)
        self.log.info("console listening", url=self.url)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


@contextmanager
def console_beside(daemon: Daemon) -> Iterator[ConsoleServer | None]:
    """The console for the daemon's settings while the daemon runs (nothing when off)."""
    settings = daemon.settings.console
    if settings is None or settings.listen is None:
        yield None
        return
    host = ConsoleHost(daemon.settings, runtime=lambda: daemon.runtime,
                       last_polls=lambda: dict(daemon.last_poll))
    server = ConsoleServer(host).start()
    try:
        yield server
    finally:
        server.stop()
