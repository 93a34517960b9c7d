"""The GP's day on the phone: next stop first, one tap to call or to open the address.

« Vu » and « Absent » follow the one rule on when (app/appointments/timing.py): before the
allowed time the buttons are disabled and say why; a tap leads to a confirmation step; an
outcome recorded today can be undone (« Annuler », app/gp/outcomes.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.accounts.models import Role, User
from app.appointments import timing
from app.appointments.dependencies import BookingContextDep
from app.appointments.models import Appointment, AppointmentStatus
from app.core.clock import NowDep
from app.core.csrf import check_csrf
from app.core.db import SessionDep
from app.core.errors import Conflict, InvalidInput
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
OUTCOME_LABELS = {AppointmentStatus.fulfilled: "vu", AppointmentStatus.noshow: "absent"}
MEDECIN_TRAITANT_LABELS = {"": "non demandé", "declared": "oui, déclaré", "none": "non, aucun"}


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


def too_early(start_at: dt.datetime, now: dt.datetime, grace_minutes: int) -> dict[str, str]:
    """Why « Vu » / « Absent » cannot be recorded yet, by status (timing's own message)."""
    probe = Appointment(start_at=start_at)  # the rule reads the start only
    reasons: dict[str, str] = {}
    for status in (AppointmentStatus.fulfilled, AppointmentStatus.noshow):
        try:
            timing.check_outcome_time(probe, status, now, grace_minutes)
        except Conflict as exc:
            reasons[str(status)] = exc.message
    return reasons


async def _day_page(
    request: Request,
    session: Any,
    user: User,
    now: dt.datetime,
    day: dt.date,
    *,
    flash: str | None = None,
    error: str | None = None,
    confirm: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    practitioner = await gp_service.practitioner_for(
        session=session, user=user, practitioner_id=None
    )
    agenda = await gp_service.agenda(
        session=session,
        practitioner=practitioner,
        date_from=day,
        date_to=day,
        actor=user,
        travel=travel_provider(request),
        visit_minutes=request.app.state.settings.home_visit_minutes,
    )
    view = day_view(agenda)
    grace = request.app.state.settings.noshow_grace_minutes
    context = {
        "agenda": agenda,
        "modality": MODALITY,
        "date": day,
        "is_today": day == now.astimezone(PARIS).date(),
        "previous_day": day - dt.timedelta(days=1),
        "next_day": day + dt.timedelta(days=1),
        "flash": flash,
        "error": error,
        "confirm": confirm,
        "outcome_labels": OUTCOME_LABELS,
        "blocked": {
            stop.appointment_id: too_early(stop.window_start, now, grace)
            for _block, stop in view["todo"]
        },
        **view,
    }
    return render(request, "gp/day.html", user, context, active="medecin", status_code=status_code)


@pages_router.get("/medecin", response_class=HTMLResponse)
async def gp_day(
    request: Request,
    session: SessionDep,
    user: GpPage,
    now: NowDep,
    date: dt.date | None = None,
    ok: int | None = None,
    annule: int | None = None,
) -> Any:
    flash = None
    if ok:
        flash = "Issue enregistrée."
    elif annule:
        flash = "Issue annulée : le rendez-vous est de nouveau à faire."
    return await _day_page(
        request, session, user, now, date or now.astimezone(PARIS).date(), flash=flash
    )


def _back(date: str, **query: int) -> str:
    params = [f"{k}={v}" for k, v in query.items()]
    try:
        params.append(f"date={dt.date.fromisoformat(date).isoformat()}")
    except ValueError:
        pass
    return "/medecin?" + "&".join(params)


def _page_day(date: str, now: dt.datetime) -> dt.date:
    try:
        return dt.date.fromisoformat(date)
    except ValueError:
        return now.astimezone(PARIS).date()


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
    confirmed: Annotated[bool, Form()] = False,
) -> Any:
    """First tap: a confirmation step; the confirmed form records the outcome."""
    check_csrf(request, csrf_token_field)
    answer = medecin_traitant_status.strip()
    if answer and answer not in set(MedecinTraitantStatus):
        raise InvalidInput("Médecin traitant : oui, non, ou non demandé.")
    if status not in OUTCOME_LABELS:
        raise InvalidInput("Issue attendue : vu ou absent.")
    day = _page_day(date, ctx.now)
    if not confirmed:
        return await _day_page(
            request,
            session,
            user,
            ctx.now,
            day,
            confirm={
                "appointment_id": appointment_id,
                "status": str(status),
                "label": OUTCOME_LABELS[status],
                "wants_medecin_traitant_help": wants_medecin_traitant_help,
                "without_video": without_video,
                "medecin_traitant_status": answer,
                "medecin_traitant_label": MEDECIN_TRAITANT_LABELS.get(answer, answer),
            },
        )
    try:
        async with session.begin_nested():  # a refusal leaves nothing half written
            await outcomes_service.record_outcome(
                session=session,
                appointment_id=appointment_id,
                outcome_in=OutcomeIn(
                    status=status,
                    wants_medecin_traitant_help=wants_medecin_traitant_help or None,
                    video=False if without_video else None,  # without video: not a TCG
                    medecin_traitant_status=MedecinTraitantStatus(answer) if answer else None,
                ),
                actor=user,
                ctx=ctx,
            )
    except Conflict as exc:
        return await _day_page(
            request, session, user, ctx.now, day, error=exc.message, status_code=409
        )
    return RedirectResponse(_back(date, ok=appointment_id), status_code=303)


@pages_router.post("/medecin/rendez-vous/{appointment_id}/annuler-issue")
async def gp_undo_outcome(
    appointment_id: int,
    request: Request,
    session: SessionDep,
    user: GpPage,
    ctx: BookingContextDep,
    csrf_token_field: Annotated[str, Form(alias="csrf_token")] = "",
    date: Annotated[str, Form()] = "",
) -> Any:
    """« Annuler »: the outcome recorded today goes back to « à faire » (same-day rule)."""
    check_csrf(request, csrf_token_field)
    try:
        async with session.begin_nested():
            await outcomes_service.undo_outcome(
                session=session, appointment_id=appointment_id, actor=user, ctx=ctx
            )
    except Conflict as exc:
        return await _day_page(
            request,
            session,
            user,
            ctx.now,
            _page_day(date, ctx.now),
            error=exc.message,
            status_code=409,
        )
    return RedirectResponse(_back(date, annule=appointment_id), status_code=303)
