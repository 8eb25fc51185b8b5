"""What every console page and API call stands on: the :class:`Call` and the role checks.

Pages (server-rendered Jinja2, no JavaScript framework) live in pages.py, the JSON API under
``/api`` in api.py; both call :mod:`gateway.service` through a :class:`Call` — the request's
store, the signed-in caller and the daemon's live configuration. server.py assembles them into
the FastAPI application (this module imports neither face, so neither imports back into it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from gateway.config.configuration import Configuration
from gateway.config.settings import ConsoleSettings, Settings
from gateway.console.auth import COOKIE, Caller, Sessions, csrf_ok
from gateway.daemon.runtime import Runtime
from gateway.service import Operations, Queries
from gateway.store import open_configured
from gateway.store.base import MessageStore
from gateway.store.operator_models import Role


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
        return open_configured(self.settings, migrate=False)


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
