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
from app.appointments import queries as appointments_queries
from app.appointments import service as appointments_service
from app.appointments.dependencies import BookingContextDep
from app.core.clock import NowDep
from app.core.csrf import CsrfChecked, csrf_token
from app.core.db import SessionDep
from app.core.errors import Conflict, Forbidden, InvalidInput
from app.core.handlers import french_message
from app.core.timeutil import PARIS
from app.patients import service as patients_service
from app.patients.models import MedecinTraitantStatus
from app.practitioners import service as practitioners_service
from app.practitioners.models import Practitioner, SessionKind
from app.rounds import holds as holds_service
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
#: How many of the first free slots are suggested to (and held for) the regulator.
FIRST_SLOTS = 3
#: Times of day the slots are grouped by (start hour, label).
PARTS_OF_DAY = ((0, "Matin"), (12, "Après-midi"), (18, "Soir"))
STATUS_LABELS = {
    "booked": "réservé",
    "fulfilled": "vu",
    "noshow": "patient absent",
    "cancelled": "annulé",
}

RegulatorPage = Annotated[User, require_page_roles(Role.regulator)]


def from_sas(request: Request) -> bool:
    """Whether this cookie session came from the SAS (a slot link with ``origin=sas``)."""
    return request.session.get(SESSION_FLAG) is True


def _remember_origin(request: Request, origin: str | None) -> None:
    if origin == "sas":
        request.session[SESSION_FLAG] = True


async def _free_slots(
    request: Request, session: Any, practitioner: Practitioner, now: dt.datetime
) -> list[dict[str, Any]]:
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
            "kind": str(_KINDS[s.consultation_type]),
            "start": s.start,
            "end": s.end,
            "label": _KIND_LABELS[s.consultation_type],
            "held_by_other": False,
        }
        for s in slots
    ]


def _part_of_day(moment: dt.datetime) -> str:
    hour = moment.astimezone(PARIS).hour
    return [label for start, label in PARTS_OF_DAY if hour >= start][-1]


def _by_day(slots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Slots grouped by day, then by time of day (matin, après-midi, soir), in order."""
    days: list[dict[str, Any]] = []
    for slot in slots:
        day = slot["start"].astimezone(PARIS).date()
        if not days or days[-1]["date"] != day:
            days.append({"date": day, "parts": []})
        part = _part_of_day(slot["start"])
        parts = days[-1]["parts"]
        if not parts or parts[-1]["label"] != part:
            parts.append({"label": part, "slots": []})
        parts[-1]["slots"].append(slot)
    return days


async def _offer(
    request: Request,
    session: Any,
    user: User,
    practitioner: Practitioner,
    now: dt.datetime,
    *,
    hold: bool,
) -> dict[str, Any]:
    """The first free slots (held for this regulator a few minutes, app/rounds/holds.py),
    then every other slot by day and time of day; slots another caller holds come last
    and cannot be chosen until their hold expires. Two regulators looking at once are
    offered different first slots; booking a held slot is never refused for the hold."""
    slots = await _free_slots(request, session, practitioner, now)
    seconds = request.app.state.rounds_settings.proposal_hold_seconds
    if hold:
        # One caller at a time per kind, like the secretariat's proposals (same locks).
        for kind in sorted({s["kind"] for s in slots}):
            await holds_service.serialise(session, kind)
    if slots:
        others = await holds_service.held_by_others(
            session=session,
            regulator_id=user.id,
            start=min(s["start"] for s in slots),
            end=max(s["end"] for s in slots),
            now=now,
        )
        for slot in slots:
            slot["held_by_other"] = any(
                h.overlaps(practitioner.id, slot["start"], slot["end"]) for h in others
            )
    first = [s for s in slots if not s["held_by_other"]][:FIRST_SLOTS]
    if hold:
        await holds_service.hold(
            session=session,
            regulator_id=user.id,
            options=[(practitioner.id, s["kind"], s["start"], s["end"]) for s in first],
            now=now,
            seconds=seconds,
        )
    chosen = {s["value"] for s in first}
    return {
        "first": first,
        "days": _by_day([s for s in slots if s["value"] not in chosen]),
        "slots": slots,
        "held_until": now + dt.timedelta(seconds=seconds) if hold and first else None,
        "hold_minutes": max(1, seconds // 60),
    }


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
    offer = await _offer(request, session, user, practitioner, now, hold=from_sas(request))
    return templates.TemplateResponse(
        request,
        "sas/agenda.html",
        {
            "user": user,
            "csrf_token": csrf_token(request),
            "practitioner": practitioner,
            **offer,
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
            "status_labels": STATUS_LABELS,
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
    if not value.strip():
        raise InvalidInput("Choisissez un créneau avant de réserver.", field="slot")
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
    # Booked: this regulator's other holds go (the next caller sees those slots first).
    await holds_service.release(session=session, regulator_id=user.id)
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
    patient = await patients_service.get(
        session=session,
        patient_id=appointment.patient_id,
        actor=user,
        booked_by=appointments_queries.regulator_booked,
    )
    return templates.TemplateResponse(
        request,
        "sas/booked.html",
        {
            "user": user,
            "csrf_token": csrf_token(request),
            "appointment": appointment,
            "practitioner": practitioner,
            "patient": patient,
            "status_label": STATUS_LABELS.get(str(appointment.status), str(appointment.status)),
            "kind_label": {v: _KIND_LABELS[k] for k, v in _KINDS.items()}.get(
                appointment.kind, str(appointment.kind)
            ),
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
