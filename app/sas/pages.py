"""The regulator's pages: the agenda a SAS slot points to, and booking for a patient.

A regulator arriving with ``origin=sas`` (the SAS adds it to the slot's ``comment`` URL)
gets an SAS session: the cookie remembers it, and only such a session may book. Arriving
without it, the regulator sees the free slots but cannot book.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from app.accounts.models import Role, User
from app.appointments import service as appointments_service
from app.appointments.dependencies import BookingContextDep
from app.core.clock import NowDep
from app.core.csrf import CsrfChecked, csrf_token
from app.core.db import SessionDep
from app.core.errors import Conflict, Forbidden, InvalidInput
from app.core.handlers import french_message
from app.core.timeutil import PARIS
from app.patients.models import MedecinTraitantStatus
from app.practitioners import service as practitioners_service
from app.practitioners.models import Practitioner, SessionKind
from app.sas import service as sas_service
from app.sas import slots as slots_service
from app.ui.session import require_page_roles
from app.ui.templating import templates

pages_router = APIRouter(include_in_schema=False)

AGENDA_DAYS = 3  # SNP care is within 48 hours; three days cover a weekend edge
SESSION_FLAG = "sas_origin"
_KINDS = {
    "VR": SessionKind.teleconsultation,
    "AMB": SessionKind.practice,
    "HH": SessionKind.home_visit,
}
_KIND_LABELS = {"VR": "Téléconsultation", "AMB": "Au cabinet", "HH": "Visite à domicile"}

RegulatorPage = Annotated[User, require_page_roles(Role.regulator)]


def from_sas(request: Request) -> bool:
    """Whether this cookie session came from the SAS (a slot link with ``origin=sas``)."""
    return request.session.get(SESSION_FLAG) is True


def _remember_origin(request: Request, origin: str | None) -> None:
    if origin == "sas":
        request.session[SESSION_FLAG] = True


async def _free_slots(request: Request, session: Any, practitioner: Practitioner, now: dt.datetime):
    state = request.app.state
    end = now + dt.timedelta(days=AGENDA_DAYS)
    slots = await slots_service.timed_slots(
        session=session, practitioner_ids=[practitioner.id], start=now, end=end, now=now
    )
    if state.sas_settings.sas_home_visits:
        slots += await slots_service.home_visit_slots(
            session=session,
            practitioner_ids=[practitioner.id],
            start=now,
            end=end,
            now=now,
            cache=state.sas_home_visit_windows,
            state=state,
        )
    slots.sort(key=lambda s: (s.start, s.consultation_type))
    return [
        {
            "value": f"{s.consultation_type}|{s.start.astimezone(dt.UTC).isoformat()}",
            "start": s.start,
            "end": s.end,
            "label": _KIND_LABELS[s.consultation_type],
        }
        for s in slots
    ]


async def _agenda(
    request: Request,
    session: Any,
    user: User,
    practitioner_id: int,
    now: dt.datetime,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Any:
    practitioner = await practitioners_service.get(session=session, practitioner_id=practitioner_id)
    return templates.TemplateResponse(
        request,
        "sas/agenda.html",
        {
            "user": user,
            "csrf_token": csrf_token(request),
            "practitioner": practitioner,
            "slots": await _free_slots(request, session, practitioner, now),
            "from_sas": from_sas(request),
            "error": error,
            "form": form or {},
        },
        status_code=status_code,
    )


@pages_router.get("/sas", response_class=HTMLResponse)
async def home(
    request: Request, user: RegulatorPage, session: SessionDep, origin: str | None = None
) -> Any:
    _remember_origin(request, origin)
    practitioners = await practitioners_service.list_(session=session)
    mine = await sas_service.list_regulator_appointments(session=session, regulator=user)
    names = {p.id: p.display_name for p in practitioners}
    return templates.TemplateResponse(
        request,
        "sas/home.html",
        {
            "user": user,
            "csrf_token": csrf_token(request),
            "practitioners": practitioners,
            "appointments": [(a, names.get(a.practitioner_id, "")) for a in mine],
            "from_sas": from_sas(request),
        },
    )


@pages_router.get("/sas/praticiens/{practitioner_id}", response_class=HTMLResponse)
async def agenda(
    request: Request,
    practitioner_id: int,
    user: RegulatorPage,
    session: SessionDep,
    now: NowDep,
    origin: str | None = None,
) -> Any:
    """The agenda a SAS slot's ``comment`` points to: free SNP slots and the booking form."""
    _remember_origin(request, origin)
    return await _agenda(request, session, user, practitioner_id, now)


def _parse_slot(value: str) -> tuple[SessionKind, dt.datetime]:
    code, _, start = value.partition("|")
    try:
        moment = dt.datetime.fromisoformat(start)
    except ValueError:
        moment = None
    if code not in _KINDS or moment is None or moment.tzinfo is None:
        raise InvalidInput("Choisissez un créneau dans la liste.", field="slot")
    return _KINDS[code], moment


@pages_router.post(
    "/sas/praticiens/{practitioner_id}/reserver",
    response_class=HTMLResponse,
    dependencies=[CsrfChecked],
)
async def book(
    request: Request,
    practitioner_id: int,
    user: RegulatorPage,
    session: SessionDep,
    ctx: BookingContextDep,
    slot: Annotated[str, Form()] = "",
    family_name: Annotated[str, Form()] = "",
    given_name: Annotated[str, Form()] = "",
    birth_date: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    medecin_traitant_status: Annotated[str, Form()] = "unknown",
) -> Any:
    """Book the chosen slot for the patient the SAS describes; refused outside origin=sas."""
    form = {
        "slot": slot,
        "family_name": family_name,
        "given_name": given_name,
        "birth_date": birth_date,
        "phone": phone,
        "reason": reason,
        "medecin_traitant_status": medecin_traitant_status,
    }
    if not from_sas(request):
        # Checked first, and again in the service: no SAS session, no booking right.
        raise Forbidden(
            "Le rôle de régulateur ne donne le droit de réserver que depuis la plateforme "
            "SAS : suivez le lien du créneau (origin=sas)."
        )
    try:
        kind, start_at = _parse_slot(slot)
        try:
            born = dt.date.fromisoformat(birth_date)
        except ValueError:
            raise InvalidInput("Date de naissance invalide (AAAA-MM-JJ).") from None
        # A savepoint: a refused booking leaves no patient or request behind.
        async with session.begin_nested():
            appointment = await sas_service.book_for_regulator(
                session=session,
                actor=user,
                from_sas=from_sas(request),
                practitioner_id=practitioner_id,
                kind=kind,
                start_at=start_at,
                patient=sas_service.SasPatient(
                    family_name=family_name,
                    given_name=given_name,
                    birth_date=born,
                    phone=phone.strip() or None,
                    reason=reason.strip() or "Adressé par le SAS",
                    medecin_traitant_status=_medecin_traitant_status(medecin_traitant_status),
                ),
                ctx=ctx,
                calendar=request.app.state.calendar,
            )
    except ValidationError as exc:
        message = " ; ".join(french_message(dict(e)) for e in exc.errors())
        return await _agenda(
            request,
            session,
            user,
            practitioner_id,
            ctx.now,
            error=message,
            form=form,
            status_code=422,
        )
    except (Conflict, InvalidInput) as exc:
        return await _agenda(
            request,
            session,
            user,
            practitioner_id,
            ctx.now,
            error=exc.message,
            form=form,
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/sas/rendez-vous/{appointment.id}", status_code=303)


@pages_router.get("/sas/rendez-vous/{appointment_id}", response_class=HTMLResponse)
async def booked(
    request: Request, appointment_id: int, user: RegulatorPage, session: SessionDep
) -> Any:
    appointment = await appointments_service.get(
        session=session, appointment_id=appointment_id, actor=user
    )
    practitioner = await practitioners_service.get(
        session=session, practitioner_id=appointment.practitioner_id
    )
    return templates.TemplateResponse(
        request,
        "sas/booked.html",
        {
            "user": user,
            "csrf_token": csrf_token(request),
            "appointment": appointment,
            "practitioner": practitioner,
            "local_start": appointment.start_at.astimezone(PARIS),
        },
    )


def _medecin_traitant_status(value: str) -> MedecinTraitantStatus:
    """The SAS page's answer to « a-t-il un médecin traitant ? » (unknown when not asked)."""
    try:
        return MedecinTraitantStatus(value.strip() or "unknown")
    except ValueError:
        raise InvalidInput(
            "Médecin traitant : répondez oui, non ou ne sait pas.",
            field="medecin_traitant_status",
        ) from None
