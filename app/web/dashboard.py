"""Tableau de bord: today's calls (live), requests waiting, each GP's load and round."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.accounts.models import Role
from app.appointments import service as appointments_service
from app.core.db import SessionDep
from app.core.timeutil import day_bounds
from app.messaging import service as messaging_service
from app.patients import service as patients_service
from app.practitioners import service as practitioners_service
from app.practitioners.models import SessionKind
from app.requests import service as requests_service
from app.rounds import service as rounds_service
from app.ui.layout import SecretariatUser, render, today
from app.ui.session import PageUser, home_for

router = APIRouter(include_in_schema=False)

URGENCY_LABELS = {
    "same_day": "Dans la journée",
    "within_24h": "Sous 24 h",
    "within_48h": "Sous 48 h",
}
MODALITY_LABELS = {
    "home_visit": "Visite à domicile",
    "teleconsultation": "Téléconsultation",
    "practice": "Consultation au cabinet",
}


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, session: SessionDep, user: PageUser) -> Any:
    if user.role in (Role.practitioner, Role.regulator):
        return RedirectResponse(home_for(user), status_code=303)
    day = today(request)
    waiting = []
    for care_request in await requests_service.list_open(session=session):
        patient = await patients_service.get(
            session=session, patient_id=care_request.patient_id, actor=user, purpose="dashboard"
        )
        waiting.append({"request": care_request, "patient": patient})
    return render(
        request,
        "web/dashboard.html",
        user,
        {
            "day": day,
            "waiting": waiting,
            "load": await _load(session=session, day=day),
            **await _live(session=session, day=day, actor=user),
            "urgency_labels": URGENCY_LABELS,
            "modality_labels": MODALITY_LABELS,
        },
        active="tableau",
    )


@router.get("/tableau/appels", response_class=HTMLResponse)
async def live_calls(request: Request, session: SessionDep, user: SecretariatUser) -> Any:
    """The live fragment the dashboard polls every ten seconds."""
    context = await _live(session=session, day=today(request), actor=user)
    return render(request, "web/_calls.html", user, context)


async def _live(*, session: Any, day: Any, actor: Any) -> dict[str, Any]:
    return {
        "calls": await messaging_service.list_calls(session=session, day=day, actor=actor),
        "inbound": await messaging_service.list_inbound(session=session, day=day, actor=actor),
        "failures": await messaging_service.list_failures(session=session, day=day, actor=actor),
    }


async def _load(*, session: Any, day: Any) -> dict[str, Any]:
    """Per GP: teleconsultations held / capacity, home visits and the round in force."""
    start, end = day_bounds(day)
    practitioners = await practitioners_service.list_(session=session)
    sessions = await practitioners_service.list_sessions(
        session=session, practitioner_ids=None, start=start, end=end
    )
    held = await appointments_service.count_by_session(
        session=session, session_ids=[s.id for s in sessions]
    )
    rounds = {
        r.practitioner_id: r
        for r in (await rounds_service.day_rounds(session=session, date=day)).routes
    }
    rows = []
    for practitioner in practitioners:
        mine = [s for s in sessions if s.practitioner_id == practitioner.id]
        if not mine:
            continue
        tele = [s for s in mine if s.kind == SessionKind.teleconsultation]
        visits = [s for s in mine if s.kind == SessionKind.home_visit]
        route = rounds.get(practitioner.id)
        rows.append(
            {
                "practitioner": practitioner,
                "tele_held": sum(held.get(s.id, 0) for s in tele),
                "tele_capacity": sum(s.capacity for s in tele),
                "visits_held": sum(held.get(s.id, 0) for s in visits),
                "visits_capacity": sum(s.capacity for s in visits),
                "route": route,
                "stops": len(route.stops) if route else 0,
            }
        )
    return {"rows": rows}
