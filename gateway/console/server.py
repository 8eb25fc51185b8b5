"""The console application, served by uvicorn in a thread of the daemon (``gateway run``).

Errors a user can meet become answers, never a 500: no such id 404, a state that does not
allow the action 409, a bad value 422, not signed in 401 (a page redirects to the login), a
missing role or CSRF token 403, too many failed logins 429. The OpenAPI document is at
``/api/openapi.json`` (FastAPI writes it from the same code).

The daemon's SIGTERM stops the main loop; :meth:`ConsoleServer.stop` then asks uvicorn to
finish the requests in flight and close. uvicorn installs no signal handlers off the main
thread, so the daemon's own handlers stay in charge.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from gateway.console.api import router as api_router
from gateway.console.app import ConsoleHost, Forbidden, SignInNeeded
from gateway.console.auth import MAX_FAILURES, LoginThrottle, Sessions
from gateway.console.pages import router as page_router
from gateway.console.reconcile_pages import router as reconcile_router
from gateway.daemon.loop import Daemon
from gateway.errors import ConfigError, GatewayError, StoreError
from gateway.log import get_logger
from gateway.store.errors import NotFound

START_SECONDS = 10.0
HERE = Path(__file__).parent  # templates/ and static/


def create_app(host: ConsoleHost) -> FastAPI:
    """The application: both faces, the static files and the answers to errors."""
    app = FastAPI(title="PSAO gateway console API", version="1",
                  openapi_url="/api/openapi.json", docs_url="/api/docs", redoc_url=None,
                  description="The operator console's JSON API. Sign in at /login (a session "
                  "cookie); every POST needs the session's CSRF token in X-CSRF-Token.")
    app.state.host = host
    app.state.sessions = Sessions(host.console)
    app.state.throttle = LoginThrottle()  # per (address, user name)
    app.state.address_throttle = LoginThrottle(max_failures=5 * MAX_FAILURES)
    app.state.templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(page_router)
    app.include_router(reconcile_router)
    app.include_router(api_router)
    for kind, handler in _handlers().items():
        app.add_exception_handler(kind, handler)
    return app


Handler = Callable[[Request, Exception], Awaitable[Response]]


def _handlers() -> dict[type[Exception], Handler]:
    def answer(status: int) -> Handler:
        async def handle(request: Request, exc: Exception) -> Response:
            text = exc.why if isinstance(exc, Forbidden) else str(exc)
            if request.url.path.startswith("/api"):
                # A bad value is answered in the shape FastAPI gives its own 422s.
                detail: object = text if status != 422 else [
                    {"loc": ["request"], "msg": text, "type": "value_error"}]
                return JSONResponse({"detail": detail}, status_code=status)
            templates: Jinja2Templates = request.app.state.templates
            return templates.TemplateResponse(request, "error.html",
                                              {"status": status, "message": text},
                                              status_code=status)
        return handle

    async def sign_in(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/api"):
            return JSONResponse({"detail": "sign in first (POST /login)"}, status_code=401)
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    return {SignInNeeded: sign_in, Forbidden: answer(403), NotFound: answer(404),
            StoreError: answer(409), ConfigError: answer(422), GatewayError: answer(409)}


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
