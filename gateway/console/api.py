"""The console's JSON API (``/api``): the same questions and actions as the pages.

Reads need the viewer role; actions the operator role and the session's CSRF token in the
``X-CSRF-Token`` header (``GET /api/session`` returns it). Lists are newest first, paged
(``page`` from 1, ``limit`` up to 200), and carry no claim content; a file's raw segments and
parsed view come only to operators and admins.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from gateway.console.app import Call, admin, operator, viewer
from gateway.console.filters import day_range, delivery_query, file_query, today_start
from gateway.reconcile.documents import summary_json
from gateway.reconcile.site import load_site
from gateway.service.reconciliation import Period, reconciliation
from gateway.service.views import Dashboard, DeliveryDetail, FileDetail, FileRow, Page, RosterRow
from gateway.store.models import Delivery, DeliveryState, Event, FileStatus
from gateway.store.operator_models import DeliveryListing, PartnerPause, Role


class Problem(BaseModel):
    """Why a request was refused (and, where there is one, what to do)."""

    detail: str


router = APIRouter(prefix="/api", tags=["api"], responses={
    401: {"model": Problem, "description": "not signed in"},
    403: {"model": Problem, "description": "the role is missing, or the CSRF token"},
    404: {"model": Problem, "description": "no such file, delivery or partner"},
    409: {"model": Problem, "description": "the state does not allow this action"},
})
Id = Annotated[int, Path(ge=1, le=2**53)]
PageNo = Annotated[int, Query(ge=1, le=100_000)]
Limit = Annotated[int, Query(ge=1, le=200)]
Text = Annotated[str | None, Query(max_length=200)]


class SessionInfo(BaseModel):
    user: str
    role: Role
    csrf_token: str


class Reason(BaseModel):
    reason: str = Field("", max_length=500)


class RedirectTo(Reason):
    to: str = Field(..., min_length=1, max_length=500,
                    description="a member (pharmacy id, NPI, NCPDP id) or folder:/abs/dir or "
                    "sftp:<transport>:/dir")


class ReleaseTo(Reason):
    to: str | None = Field(None, max_length=500,
                           description="where it goes; default the roster member it names")


class RetryDead(Reason):
    destination: str | None = Field(None, max_length=500)


class Count(BaseModel):
    count: int


class PartnerState(BaseModel):
    partner: str
    paused: PartnerPause | None


@router.get("/session", response_model=SessionInfo)
def session(c: Annotated[Call, Depends(viewer)]) -> SessionInfo:
    return SessionInfo(user=c.caller.user.name, role=c.caller.user.role,
                       csrf_token=c.caller.csrf_token)


@router.get("/dashboard", response_model=Dashboard)
def dashboard(c: Annotated[Call, Depends(viewer)]) -> Dashboard:
    settings = c.host.settings
    return c.queries().dashboard(c.host.runtime().partners, c.host.last_polls(),
                                 settings.holidays, today_since=today_start(settings.timezone))


@router.get("/files", response_model=Page[FileRow])
def files(c: Annotated[Call, Depends(viewer)], partner: Text = None,
          status: FileStatus | None = None, pharmacy: Text = None, trace_number: Text = None,
          amount: Text = None, since: date | None = None, until: date | None = None,
          page: PageNo = 1, limit: Limit = 50) -> Page[FileRow]:
    zone = c.host.settings.timezone
    query = file_query(partner, status, pharmacy, trace_number, amount,
                       *day_range(since, until, zone))
    return c.queries().files(query, offset=(page - 1) * limit, limit=limit)


@router.get("/files/{file_id}", response_model=FileDetail)
def file(c: Annotated[Call, Depends(viewer)], file_id: Id) -> FileDetail:
    return c.queries().file(file_id, claims=c.caller.can(Role.OPERATOR))


@router.get("/deliveries", response_model=Page[DeliveryListing])
def deliveries(c: Annotated[Call, Depends(viewer)], state: DeliveryState | None = None,
               destination: Text = None, pharmacy: Text = None, partner: Text = None,
               since: date | None = None, until: date | None = None,
               page: PageNo = 1, limit: Limit = 50) -> Page[DeliveryListing]:
    zone = c.host.settings.timezone
    query = delivery_query(state, destination, pharmacy, partner, *day_range(since, until, zone))
    return c.queries().deliveries(query, offset=(page - 1) * limit, limit=limit)


@router.get("/deliveries/{delivery_id}", response_model=DeliveryDetail)
def delivery(c: Annotated[Call, Depends(viewer)], delivery_id: Id) -> DeliveryDetail:
    return c.queries().delivery(delivery_id)


@router.post("/deliveries/{delivery_id}/resend", response_model=Delivery)
def resend(c: Annotated[Call, Depends(operator)], delivery_id: Id, body: Reason) -> Delivery:
    return c.operations().resend(delivery_id, body.reason)


@router.post("/deliveries/{delivery_id}/redirect", response_model=Delivery)
def redirect(c: Annotated[Call, Depends(operator)], delivery_id: Id,
             body: RedirectTo) -> Delivery:
    return c.operations().redirect(delivery_id, body.to, body.reason)


@router.post("/deliveries/{delivery_id}/release", response_model=Delivery)
def release(c: Annotated[Call, Depends(operator)], delivery_id: Id, body: ReleaseTo) -> Delivery:
    return c.operations().release(delivery_id, body.to or None, body.reason)


@router.post("/deliveries/retry-dead", response_model=Count)
def retry_dead(c: Annotated[Call, Depends(operator)], body: RetryDead) -> Count:
    return Count(count=c.operations().retry_all_dead(body.destination or None, body.reason))


@router.get("/partners", response_model=list[PartnerState])
def partners(c: Annotated[Call, Depends(viewer)]) -> list[PartnerState]:
    pauses = c.store.partner_pauses()
    return [PartnerState(partner=pid, paused=pauses.get(pid))
            for pid in c.host.runtime().partners]


@router.post("/partners/{partner}/pause", response_model=PartnerState)
def pause(c: Annotated[Call, Depends(operator)],
          partner: Annotated[str, Path(max_length=200)], body: Reason) -> PartnerState:
    c.operations().pause_partner(partner, body.reason)
    return PartnerState(partner=partner, paused=c.store.partner_pauses().get(partner))


@router.post("/partners/{partner}/resume", response_model=PartnerState)
def resume(c: Annotated[Call, Depends(operator)],
           partner: Annotated[str, Path(max_length=200)], body: Reason) -> PartnerState:
    c.operations().resume_partner(partner, body.reason)
    return PartnerState(partner=partner, paused=None)


@router.get("/members", response_model=list[RosterRow])
def members(c: Annotated[Call, Depends(viewer)]) -> list[RosterRow]:
    return c.queries().roster(c.config.roster)


@router.get("/reconcile", response_model=dict[str, Any])
def reconcile(c: Annotated[Call, Depends(operator)],
              pharmacy: Annotated[str, Query(min_length=1, max_length=200)],
              start: Annotated[date, Query(alias="from")], end: Annotated[date, Query(alias="to")],
              pbm: Text = None, as_of: date | None = None) -> dict[str, Any]:
    """A pharmacy's claims reconciliation for the period (dates of service): the JSON summary
    ``gateway reconcile --format json`` writes. Operators only: it is claim-level money."""
    site = load_site(c.host.settings, c.config.roster)
    period = Period(pharmacy, start, end, as_of or date.today(), pbm or None)
    report = reconciliation(c.store, site, period)
    try:
        return summary_json(report.summary)
    finally:
        report.close()


@router.get("/alerts", response_model=list[Event])
def alerts(c: Annotated[Call, Depends(viewer)], limit: Limit = 20) -> list[Event]:
    return c.store.recent_alerts(limit)


@router.get("/users", response_model=list[str])
def users(c: Annotated[Call, Depends(admin)]) -> list[str]:
    return [u.name for u in c.store.list_users()]
