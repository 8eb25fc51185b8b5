"""The console's pages: server-rendered HTML forms, usable without JavaScript.

Every POST form carries the session's CSRF token (``csrf_token``); after an action the
browser is sent back (303) to the page it came from with a notice saying what was done.
List pages show ids, states, amounts and trace numbers only; a file's raw segments and
parsed view (claim-level content) show on its page for operators and admins.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from gateway.console.app import Call, ConsoleHost, admin, operator, viewer
from gateway.console.auth import COOKIE, LOGIN_COOKIE, LoginThrottle, Sessions, csrf_ok
from gateway.console.filters import (
    day_range,
    delivery_query,
    file_query,
    parse_choice,
    parse_day,
    today_start,
)
from gateway.service import Accounts
from gateway.service.views import age
from gateway.store.models import DeliveryState, FileStatus
from gateway.store.operator_models import Role

router = APIRouter(include_in_schema=False)
FormText = Annotated[str, Form(max_length=500)]


def render(request: Request, c: Call | None, template: str, status: int = 200,
            **values: Any) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    context = {"me": c.caller if c else None, "notice": request.query_params.get("notice"),
               "Role": Role, "age": age, **values}
    return templates.TemplateResponse(request, template, context, status_code=status)


def _back(path: str, notice: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode({'notice': notice})}", status_code=303)


def _page(request: Request) -> int:
    text = request.query_params.get("page", "1")
    return max(1, min(int(text), 100_000)) if text.isdigit() else 1


# -- signing in ---------------------------------------------------------------------------------

@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, None, "login.html", login_csrf=token,
                       next=request.query_params.get("next", "/"))
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict",
                        secure=request.app.state.host.console.secure_cookies, max_age=900)
    return response


@router.post("/login")
async def login(request: Request, username: FormText, password: FormText, login_csrf: FormText,
                next: FormText = "/") -> Response:
    host: ConsoleHost = request.app.state.host
    throttle: LoginThrottle = request.app.state.throttle
    if not csrf_ok(request.cookies.get(LOGIN_COOKIE, ""), login_csrf):
        return render(request, None, "error.html", 403,
                       message="the login form expired or came from elsewhere: reload it")
    address = request.client.host if request.client else "-"
    keys = (f"{address}|{username}",)  # one user's tries from one address...
    wait = max(throttle.retry_after(*keys), request.app.state.address_throttle.retry_after(address))
    if wait:
        refused = render(request, None, "login.html", 429, login_csrf=login_csrf, next=next,
                           error=f"too many failed sign-ins: try again in {wait} s")
        refused.headers["Retry-After"] = str(wait)
        return refused
    store = await run_in_threadpool(host.open_store)
    try:
        user = await run_in_threadpool(
            Accounts(store, actor="console").authenticate, username, password)
        if user is None:
            throttle.failed(*keys)
            request.app.state.address_throttle.failed(address)  # ...and all tries from there
            return render(request, None, "login.html", 401, login_csrf=login_csrf, next=next,
                           error="wrong user name or password, or the account is disabled")
        throttle.succeeded(*keys)
        sessions: Sessions = request.app.state.sessions
        cookie = await run_in_threadpool(sessions.start, store, user)
    finally:
        await run_in_threadpool(store.close)
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response: Response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, cookie, httponly=True, samesite="strict",
                        secure=host.console.secure_cookies, max_age=sessions.max_seconds)
    response.delete_cookie(LOGIN_COOKIE)
    return response


@router.post("/logout")
def logout(c: Annotated[Call, Depends(viewer)]) -> Response:
    c.store.end_session(c.caller.token_sha256)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


# -- what is going on -----------------------------------------------------------------------

@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, c: Annotated[Call, Depends(viewer)]) -> Response:
    settings = c.host.settings
    board = c.queries().dashboard(c.host.runtime().partners, c.host.last_polls(),
                                  settings.holidays, today_since=today_start(settings.timezone))
    return render(request, c, "dashboard.html", board=board)


@router.get("/files", response_class=HTMLResponse)
def files(request: Request, c: Annotated[Call, Depends(viewer)]) -> Response:
    q = request.query_params
    zone = c.host.settings.timezone
    status = parse_choice(q.get("status"), FileStatus, "status")
    query = file_query(q.get("partner"), status if isinstance(status, FileStatus) else None,
                       q.get("pharmacy"), q.get("trace_number"), q.get("amount"),
                       *day_range(parse_day(q.get("since"), "since"),
                                  parse_day(q.get("until"), "until"), zone))
    page = _page(request)
    found = c.queries().files(query, offset=(page - 1) * 50, limit=50)
    return render(request, c, "files.html", page=found, number=page, q=q,
                   statuses=[s.value for s in FileStatus], more=_more(request, page))


@router.get("/files/{file_id}", response_class=HTMLResponse)
def file(request: Request, file_id: int, c: Annotated[Call, Depends(viewer)]) -> Response:
    offset = request.query_params.get("raw_offset", "0")
    detail = c.queries().file(file_id, claims=c.caller.can(Role.OPERATOR),
                              raw_offset=int(offset) if offset.isdigit() else 0)
    return render(request, c, "file.html", d=detail)


@router.get("/deliveries", response_class=HTMLResponse)
def deliveries(request: Request, c: Annotated[Call, Depends(viewer)]) -> Response:
    q = request.query_params
    zone = c.host.settings.timezone
    state = parse_choice(q.get("state"), DeliveryState, "state")
    query = delivery_query(state if isinstance(state, DeliveryState) else None,
                           q.get("destination"), q.get("pharmacy"), q.get("partner"),
                           *day_range(parse_day(q.get("since"), "since"),
                                      parse_day(q.get("until"), "until"), zone))
    page = _page(request)
    found = c.queries().deliveries(query, offset=(page - 1) * 50, limit=50)
    return render(request, c, "deliveries.html", page=found, number=page, q=q,
                   states=[s.value for s in DeliveryState], more=_more(request, page))


def _more(request: Request, page: int) -> str:
    params = {k: v for k, v in request.query_params.items() if k not in ("page", "notice")}
    return f"{request.url.path}?{urlencode({**params, 'page': page + 1})}"


@router.get("/deliveries/{delivery_id}", response_class=HTMLResponse)
def delivery(request: Request, delivery_id: int,
             c: Annotated[Call, Depends(viewer)]) -> Response:
    return render(request, c, "delivery.html", d=c.queries().delivery(delivery_id))


@router.get("/partners", response_class=HTMLResponse)
def partners(request: Request, c: Annotated[Call, Depends(viewer)]) -> Response:
    pauses = c.store.partner_pauses()
    polls = c.host.last_polls()
    rows = [(pid, pauses.get(pid), polls.get(pid)) for pid in c.host.runtime().partners]
    return render(request, c, "partners.html", rows=rows)


@router.get("/members", response_class=HTMLResponse)
def members(request: Request, c: Annotated[Call, Depends(viewer)]) -> Response:
    return render(request, c, "members.html", rows=c.queries().roster(c.config.roster))


@router.get("/users", response_class=HTMLResponse)
def users(request: Request, c: Annotated[Call, Depends(admin)]) -> Response:
    return render(request, c, "users.html", users=c.store.list_users())


# -- actions (operator) -----------------------------------------------------------------------

@router.post("/deliveries/{delivery_id}/resend")
def resend(delivery_id: int, c: Annotated[Call, Depends(operator)],
           reason: FormText = "") -> Response:
    d = c.operations().resend(delivery_id, reason)
    return _back(f"/deliveries/{d.id}", f"D{d.id} queued again for {d.destination}")


@router.post("/deliveries/{delivery_id}/redirect")
def redirect(delivery_id: int, c: Annotated[Call, Depends(operator)], to: FormText,
             reason: FormText = "") -> Response:
    d = c.operations().redirect(delivery_id, to, reason)
    return _back(f"/deliveries/{d.id}", f"D{d.id} queued for {d.destination}")


@router.post("/deliveries/{delivery_id}/release")
def release(delivery_id: int, c: Annotated[Call, Depends(operator)], to: FormText = "",
            reason: FormText = "") -> Response:
    d = c.operations().release(delivery_id, to.strip() or None, reason)
    return _back(f"/deliveries/{d.id}", f"D{d.id} released to {d.destination}")


@router.post("/deliveries/retry-dead")
def retry_dead(c: Annotated[Call, Depends(operator)], destination: FormText = "",
               reason: FormText = "") -> Response:
    count = c.operations().retry_all_dead(destination.strip() or None, reason)
    return _back("/deliveries", f"{count} dead deliveries queued again")


@router.post("/partners/{partner}/pause")
def pause(partner: str, c: Annotated[Call, Depends(operator)], reason: FormText = "") -> Response:
    c.operations().pause_partner(partner, reason)
    return _back("/partners", f"{partner}: polling paused")


@router.post("/partners/{partner}/resume")
def resume(partner: str, c: Annotated[Call, Depends(operator)],
           reason: FormText = "") -> Response:
    c.operations().resume_partner(partner, reason)
    return _back("/partners", f"{partner}: polling resumed")


@router.post("/users/{name}/disable")
def disable_user(name: str, c: Annotated[Call, Depends(admin)]) -> Response:
    Accounts(c.store, actor=c.caller.actor).disable(name)
    return _back("/users", f"user {name} disabled; their sessions are ended")


@router.post("/users/{name}/enable")
def enable_user(name: str, c: Annotated[Call, Depends(admin)]) -> Response:
    Accounts(c.store, actor=c.caller.actor).enable(name)
    return _back("/users", f"user {name} enabled")
