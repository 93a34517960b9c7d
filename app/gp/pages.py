"""The GP's day on the phone: next stop first, one tap to call or to open the address."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.accounts.models import Role, User
from app.appointments.dependencies import BookingContextDep
from app.appointments.models import AppointmentStatus
from app.core.clock import NowDep
from app.core.csrf import check_csrf
from app.core.db import SessionDep
from app.core.errors import InvalidInput
from app.core.timeutil import PARIS
from app.gp import outcomes as outcomes_service
from app.gp import service as gp_service
from app.gp.schemas import OutcomeIn
from app.gp.travel import travel_provider
from app.patients.models import MedecinTraitantStatus
from app.practitioners.models import SessionKind
from app.ui.layout import render
from app.ui.session import require_page_roles

pages_router = APIRouter(include_in_schema=False)
GpPage = Annotated[User, require_page_roles(Role.practitioner)]
MODALITY = {
    SessionKind.home_visit: "Visite",
    SessionKind.teleconsultation: "Téléconsultation",
    SessionKind.practice: "Cabinet",
}


def day_view(agenda: Any) -> dict[str, Any]:
    """Stops of the day: still to do first (the next one on top), then those already done."""
    day = agenda.days[0]
    stops = [
        (block, stop)
        for block in sorted(day.sessions, key=lambda b: b.start_at)
        for stop in block.appointments
    ]
    todo = [s for s in stops if s[1].status == AppointmentStatus.booked]
    done = [s for s in stops if s[1].status != AppointmentStatus.booked]
    return {"day": day, "todo": todo, "done": done, "next": todo[0][1] if todo else None}


@pages_router.get("/medecin", response_class=HTMLResponse)
async def gp_day(
    request: Request,
    session: SessionDep,
    user: GpPage,
    now: NowDep,
    date: dt.date | None = None,
    ok: int | None = None,
) -> Any:
    practitioner = await gp_service.practitioner_for(
        session=session, user=user, practitioner_id=None
    )
    day = date or now.astimezone(PARIS).date()
    agenda = await gp_service.agenda(
        session=session,
        practitioner=practitioner,
        date_from=day,
        date_to=day,
        actor=user,
        travel=travel_provider(request),
        visit_minutes=request.app.state.settings.home_visit_minutes,
    )
    context = {
        "agenda": agenda,
        "modality": MODALITY,
        "date": day,
        "previous_day": day - dt.timedelta(days=1),
        "next_day": day + dt.timedelta(days=1),
        "recorded": ok,
        **day_view(agenda),
    }
    return render(request, "gp/day.html", user, context, active="medecin")


@pages_router.post("/medecin/rendez-vous/{appointment_id}/issue")
async def gp_outcome(
    appointment_id: int,
    request: Request,
    session: SessionDep,
    user: GpPage,
    ctx: BookingContextDep,
    status: Annotated[AppointmentStatus, Form()],
    csrf_token_field: Annotated[str, Form(alias="csrf_token")] = "",
    wants_medecin_traitant_help: Annotated[bool, Form()] = False,
    without_video: Annotated[bool, Form()] = False,
    date: Annotated[str, Form()] = "",
    medecin_traitant_status: Annotated[str, Form()] = "",
) -> Any:
    check_csrf(request, csrf_token_field)
    answer = medecin_traitant_status.strip()
    if answer and answer not in set(MedecinTraitantStatus):
        raise InvalidInput("Médecin traitant : oui, non, ou non demandé.")
    await outcomes_service.record_outcome(
        session=session,
        appointment_id=appointment_id,
        outcome_in=OutcomeIn(
            status=status,
            wants_medecin_traitant_help=wants_medecin_traitant_help or None,
            video=False if without_video else None,  # a call without video is not a TCG
            medecin_traitant_status=MedecinTraitantStatus(answer) if answer else None,
        ),
        actor=user,
        ctx=ctx,
    )
    target = f"/medecin?ok={appointment_id}" + (f"&date={date}" if date else "")
    return RedirectResponse(target, status_code=303)
