"""The console's reconciliation pages: one pharmacy's claims matched to what its PBMs paid.

``/reconcile`` shows the form and, once a pharmacy is chosen, the period's totals, outcomes,
aging and per-PBM money; ``/reconcile/report.{html,csv,json}`` hands over the same report as
``gateway reconcile`` writes it (the HTML with its charts). The report lists claims one by
one (Rx numbers, amounts), so these pages need the operator role; no patient data is in it
(the ledger holds none). Both call the service layer's :func:`reconciliation`, like the CLI.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from gateway.console.app import Call, operator
from gateway.console.filters import parse_day
from gateway.console.pages import render
from gateway.errors import ConfigError
from gateway.reconcile.documents import FORMATS, Report
from gateway.reconcile.outcomes import BUCKETS, OUTCOMES
from gateway.reconcile.site import Site, load_site
from gateway.service.reconciliation import Period, reconciliation

router = APIRouter(include_in_schema=False)
MEDIA = {"html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8",
         "json": "application/json"}


def _site(c: Call) -> Site:
    return load_site(c.host.settings, c.config.roster)


def period_of(request: Request) -> Period | None:
    """The period the query string asks for (None: no pharmacy chosen yet); the default is
    the last 30 days of service, judged by today."""
    q = request.query_params
    pharmacy = (q.get("pharmacy") or "").strip()
    if not pharmacy:
        return None
    today = date.today()
    end = parse_day(q.get("to"), "to") or today
    start = parse_day(q.get("from"), "from") or end - timedelta(days=30)
    as_of = parse_day(q.get("as_of"), "as of") or today
    return Period(pharmacy, start, end, as_of, (q.get("pbm") or "").strip() or None)


def _run(c: Call, period: Period) -> Report:
    return reconciliation(c.store, _site(c), period)


@router.get("/reconcile", response_class=HTMLResponse)
async def reconcile_page(request: Request, c: Annotated[Call, Depends(operator)]) -> Response:
    period = period_of(request)
    members = sorted(c.config.roster, key=lambda m: m.pharmacy_id)
    if period is None:
        return render(request, c, "reconcile.html", members=members, period=None, q={})
    report = await run_in_threadpool(_run, c, period)
    try:
        return render(request, c, "reconcile.html", members=members, period=period,
                       q=dict(request.query_params), summary=report.summary,
                       title=report.title, outcomes=OUTCOMES, buckets=BUCKETS,
                       attention=report.attention[:50])
    finally:
        report.close()


@router.get("/reconcile/report.{fmt}")
async def reconcile_report(request: Request, fmt: str,
                           c: Annotated[Call, Depends(operator)]) -> Response:
    if fmt not in FORMATS:
        raise ConfigError(f"no report format {fmt!r}", fix="use " + ", ".join(FORMATS))
    period = period_of(request)
    if period is None:
        raise ConfigError("no pharmacy chosen", fix="add ?pharmacy=ID (id, NPI or NCPDP id)")
    report = await run_in_threadpool(_run, c, period)
    try:
        body = await run_in_threadpool(report.render, fmt)
    finally:
        report.close()
    name = f"reconcile-{report.summary.scope.pharmacy}-{period.start}-{period.end}.{fmt}"
    disposition = "inline" if fmt == "html" else "attachment"
    return Response(body, media_type=MEDIA[fmt],
                    headers={"Content-Disposition": f'{disposition}; filename="{name}"'})
