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


#: French titles of the report's sections (export.SUMMARY_ROWS names them by key).
SECTION_TITLES = {
    "professionnels": "Professionnels de santé participants",
    "consultations": "Consultations réalisées",
    "orientation": "Orientation vers un médecin traitant",
    "demandes": "Demandes de soins non programmés",
    "rendez-vous": "Rendez-vous",
    "facturation": "Facturation",
    "sas": "Service d'accès aux soins (SAS)",
}
#: Labels that name an interface code rather than what it counts, as a coordinator reads them.
LABELS = {"sas.push.sent": "Rendez-vous SAS transmis à la plateforme SAS"}


async def _report(
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
    return report.as_dict()


async def _masked(
    request: Request,
    session: SessionDep,
    now: dt.datetime,
    start: dt.date | None,
    end: dt.date | None,
) -> dict[str, Any]:
    return export.mask_report(await _report(request, session, now, start, end))


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


def _sections(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The summary rows grouped under their French section title, in export's order."""
    out: list[dict[str, Any]] = []
    for section, key, label, unit in export.SUMMARY_ROWS:
        if not out or out[-1]["key"] != section:
            out.append({"key": section, "title": SECTION_TITLES.get(section, section), "rows": []})
        out[-1]["rows"].append((LABELS.get(key, label), export.lookup(report, key), unit))
    return out


def _page(
    template: str, request: Request, user: Any, report: dict[str, Any], *, masked: bool
) -> HTMLResponse:
    start = dt.date.fromisoformat(report["period"]["from"])
    end = dt.date.fromisoformat(report["period"]["to"])
    context = {
        "request": request,
        "user": user,
        "active": "indicateurs",
        "r": report,
        "masked": masked,
        "charts": charts.dashboard_charts(report),
        "sections": _sections(report),
        "iso_long_date": lambda iso: french_date(dt.date.fromisoformat(iso)),
        "week_label": lambda key: "Semaine " + key.partition("-S")[2].lstrip("0"),
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
    """Tableau de bord des indicateurs (graphiques SVG générés sur le serveur).

    The coordinator reads the true counts on the screen; masking (« <5 ») is for what
    leaves the service: the CSV, the JSON API and the printable report (CNIL,
    anonymisation des données de santé : petits effectifs).
    """
    if user.role == Role.coordinator:
        report = await _report(request, session, now, start, end)
        return _page("indicators/dashboard.html", request, user, report, masked=False)
    masked = await _masked(request, session, now, start, end)
    return _page("indicators/dashboard.html", request, user, masked, masked=True)


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
    return _page("indicators/report.html", request, user, masked, masked=True)
