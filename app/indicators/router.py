"""The CPTS indicators: JSON, CSV, the dashboard page and the printable report."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.accounts.dependencies import CurrentUser, require_roles
from app.accounts.models import Role
from app.core.clock import NowDep
from app.core.csrf import csrf_token
from app.core.db import SessionDep
from app.core.timeutil import PARIS, french_date
from app.indicators import charts, export
from app.indicators import service as indicators_service
from app.ui.templating import templates

router = APIRouter(tags=["indicators"])

READERS = (Role.coordinator, Role.admin)
FromQuery = Annotated[dt.date | None, Query(alias="from", description="Premier jour (inclus)")]
ToQuery = Annotated[dt.date | None, Query(alias="to", description="Dernier jour (inclus)")]


async def _masked(
    request: Request,
    session: SessionDep,
    now: dt.datetime,
    start: dt.date | None,
    end: dt.date | None,
) -> dict[str, Any]:
    span = indicators_service.period(start, end, now.astimezone(PARIS).date())
    report = await indicators_service.compute(
        session=session, span=span, tariffs=request.app.state.tariffs
    )
    return export.mask_report(report.as_dict())


@router.get("/api/indicators", dependencies=[require_roles(*READERS)])
async def indicators(
    request: Request,
    session: SessionDep,
    now: NowDep,
    start: FromQuery = None,
    end: ToQuery = None,
) -> dict[str, Any]:
    """Aggregated indicators over ``from``–``to`` (counts under 5 shown as "<5")."""
    return await _masked(request, session, now, start, end)


@router.get("/api/indicators.csv", dependencies=[require_roles(*READERS)])
async def indicators_csv(
    request: Request,
    session: SessionDep,
    now: NowDep,
    start: FromQuery = None,
    end: ToQuery = None,
) -> Response:
    masked = await _masked(request, session, now, start, end)
    name = f"indicateurs_{masked['period']['from']}_{masked['period']['to']}.csv"
    return Response(
        content="\ufeff" + export.to_csv(masked),  # BOM: Excel opens the accents right
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _csrf(request: Request) -> str | None:
    """The logout form of the base layout needs the session's token (cookie sessions only)."""
    if "session" not in request.scope:
        return None
    return csrf_token(request)


def _page(template: str, request: Request, user: Any, masked: dict[str, Any]) -> HTMLResponse:
    start = dt.date.fromisoformat(masked["period"]["from"])
    end = dt.date.fromisoformat(masked["period"]["to"])
    context = {
        "request": request,
        "user": user,
        "active": "indicateurs",
        "r": masked,
        "charts": charts.dashboard_charts(masked),
        "rows": export.rows(masked),
        "summary_rows": [
            (section, label, export.lookup(masked, key), unit)
            for section, key, label, unit in export.SUMMARY_ROWS
        ],
        "commune_columns": export.COMMUNE_COLUMNS,
        "week_columns": export.WEEK_COLUMNS,
        "start": start,
        "end": end,
        "start_fr": french_date(start) + f" {start.year}",
        "end_fr": french_date(end) + f" {end.year}",
        "csrf_token": _csrf(request),
    }
    return templates.TemplateResponse(request, template, context)


@router.get("/indicateurs", response_class=HTMLResponse, dependencies=[require_roles(*READERS)])
async def dashboard(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    now: NowDep,
    start: FromQuery = None,
    end: ToQuery = None,
) -> HTMLResponse:
    """Tableau de bord des indicateurs (graphiques SVG générés sur le serveur)."""
    masked = await _masked(request, session, now, start, end)
    return _page("indicators/dashboard.html", request, user, masked)


@router.get(
    "/indicateurs/rapport", response_class=HTMLResponse, dependencies=[require_roles(*READERS)]
)
async def printable_report(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    now: NowDep,
    start: FromQuery = None,
    end: ToQuery = None,
) -> HTMLResponse:
    """Rapport imprimable (feuille de style d'impression ; « Imprimer » → PDF du navigateur)."""
    masked = await _masked(request, session, now, start, end)
    return _page("indicators/report.html", request, user, masked)
