"""The web console and its JSON API: one FastAPI application over the service layer.

Pages (server-rendered Jinja2, no JavaScript framework) live in pages.py, the JSON API under
``/api`` in api.py; both call :mod:`gateway.service` through a :class:`Call` — the request's
store, the signed-in caller and the daemon's live configuration. The OpenAPI document is at
``/api/openapi.json`` (FastAPI writes it from the same code).

Errors a user can meet become answers, never a 500: no such id 404, a state that does not
allow the action 409, a bad value 422, not signed in 401 (a page redirects to the login), a
missing role or CSRF token 403, too many failed logins 429.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from gateway.config.configuration import Configuration
from gateway.config.settings import ConsoleSettings, Settings
from gateway.console.auth import COOKIE, MAX_FAILURES, Caller, LoginThrottle, Sessions, csrf_ok
from gateway.daemon.runtime import Runtime
from gateway.errors import ConfigError, GatewayError, StoreError
from gateway.service import Operations, Queries
from gateway.store import open_store
from gateway.store.base import MessageStore, NotFound
from gateway.store.models import Role

HERE = Path(__file__).parent


@dataclass
class ConsoleHost:
    """What the console needs of the daemon that serves it: settings, its live runtime
    (partners and roster, rebuilt on SIGHUP) and when each partner was last polled."""

    settings: Settings
    runtime: Callable[[], Runtime]
    last_polls: Callable[[], Mapping[str, datetime]] = field(default=lambda: {})

    @property
    def console(self) -> ConsoleSettings:
        assert self.settings.console is not None  # load_settings always fills it
        return self.settings.console

    def open_store(self) -> MessageStore:
        return open_store(self.settings.store_url, migrate=False)


@dataclass
class Call:
    """One request's store, caller and configuration."""

    store: MessageStore
    caller: Caller
    host: ConsoleHost

    @property
    def config(self) -> Configuration:
        return self.host.runtime().config

    def queries(self) -> Queries:
        return Queries(self.store)

    def operations(self) -> Operations:
        return Operations(self.store, actor=self.caller.actor, config=self.config)


class SignInNeeded(Exception):
    """No live session: a page redirects to the login, the API answers 401."""


class Forbidden(Exception):
    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def call(role: Role) -> Callable[[Request], AsyncIterator[Call]]:
    """A dependency: the request's :class:`Call` for a caller with at least ``role``; a POST
    must also carry the session's CSRF token (form field or ``X-CSRF-Token`` header)."""

    async def dependency(request: Request) -> AsyncIterator[Call]:
        host: ConsoleHost = request.app.state.host
        sessions: Sessions = request.app.state.sessions
        store = await run_in_threadpool(host.open_store)
        try:
            caller = await run_in_threadpool(sessions.caller, store, request.cookies.get(COOKIE))
            if caller is None:
                raise SignInNeeded()
            if not caller.can(role):
                raise Forbidden(f"this needs the {role.value} role; you are {caller.user.role}")
            if request.method == "POST":
                given = request.headers.get("x-csrf-token")
                if given is None and "form" in request.headers.get("content-type", ""):
                    form = await request.form()
                    value = form.get("csrf_token")
                    given = value if isinstance(value, str) else None
                if not csrf_ok(caller.csrf_token, given):
                    raise Forbidden("the request has no valid CSRF token: reload the page")
            yield Call(store, caller, host)
        finally:
            await run_in_threadpool(store.close)

    return dependency


viewer, operator, admin = call(Role.VIEWER), call(Role.OPERATOR), call(Role.ADMIN)


def create_app(host: ConsoleHost) -> FastAPI:
    from gateway.console.api import router as api_router  # they import this module
    from gateway.console.pages import router as page_router
    from gateway.console.reconcile_pages import router as reconcile_router

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
