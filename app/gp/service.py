"""The GP's side: whose agenda, the day in order with its round, availability, outcomes."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role, User
from app.appointments import service as appointments_service
from app.appointments.models import Appointment
from app.audit import service as audit_service
from app.core.errors import Forbidden, InvalidInput
from app.core.timeutil import PARIS, day_bounds, french_date
from app.gp.models import VisitOutcome
from app.gp.schemas import (
    AgendaDay,
    AgendaOut,
    PatientBrief,
    SessionBlock,
    StopOut,
    TitularDay,
)
from app.patients.models import Patient
from app.practitioners import service as practitioners_service
from app.practitioners.models import (
    DutySession,
    Practitioner,
    PractitionerStatus,
    SessionKind,
)
from app.requests.models import CareRequest
from app.rounds import service as rounds_service
from scheduler import HaversineTravelTime, TravelTimeProvider

logger = logging.getLogger(__name__)

MANAGERS = (Role.coordinator, Role.admin)
MAX_AGENDA_DAYS = 31


# --- whose agenda -------------------------------------------------------------------------


async def practitioner_for(
    *, session: AsyncSession, user: User, practitioner_id: int | None
) -> Practitioner:
    """The GP behind a request: oneself, or any GP for the coordinator (`practitioner_id`)."""
    if user.role == Role.practitioner:
        if user.practitioner_id is None:
            raise Forbidden("Ce compte n'est rattaché à aucun médecin.")
        if practitioner_id is not None and practitioner_id != user.practitioner_id:
            raise Forbidden("Un médecin ne peut consulter ou modifier que son propre agenda.")
        return await practitioners_service.get(
            session=session, practitioner_id=user.practitioner_id
        )
    if user.role in MANAGERS:
        if practitioner_id is None:
            raise InvalidInput(
                "Précisez le médecin concerné (paramètre practitioner_id).",
                field="practitioner_id",
            )
        return await practitioners_service.get(session=session, practitioner_id=practitioner_id)
    raise Forbidden("Votre rôle ne permet pas de consulter les agendas des médecins.")


def display(practitioner: Practitioner) -> str:
    return practitioner.display_name


# --- the agenda ---------------------------------------------------------------------------


def initials(patient: Patient) -> str:
    return "".join(
        f"{part.strip()[0].upper()}." for part in (patient.given_name, patient.family_name) if part
    )


def tel_link(phone: str | None) -> str | None:
    return f"tel:{phone.replace(' ', '')}" if phone else None


def map_links(
    lat: float | None, lon: float | None, address: str | None
) -> tuple[str | None, str | None]:
    """A `geo:` URI (phones open their maps app) and an OpenStreetMap page."""
    label = quote(address or "")
    if lat is not None and lon is not None:
        geo = f"geo:{lat:.6f},{lon:.6f}?q={lat:.6f},{lon:.6f}" + (f"({label})" if label else "")
        osm = f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=17/{lat:.6f}/{lon:.6f}"
        return geo, osm
    if address:
        return f"geo:0,0?q={label}", f"https://www.openstreetmap.org/search?query={label}"
    return None, None


def _patient_brief(patient: Patient | None) -> PatientBrief | None:
    if patient is None:
        return None
    address = ", ".join(p for p in (patient.address, patient.postal_code, patient.commune) if p)
    return PatientBrief(
        id=patient.id,
        name=patient.display_name,
        initials=initials(patient),
        phone=patient.phone,
        tel_link=tel_link(patient.phone),
        address=address or None,
        commune=patient.commune,
        latitude=patient.latitude,
        longitude=patient.longitude,
    )


async def _round_plans(
    *, session: AsyncSession, practitioner_id: int, dates: Sequence[dt.date]
) -> dict[int, Any]:
    """Stops of the published rounds plan, by appointment id."""
    stops: dict[int, Any] = {}
    for date in dates:
        day = await rounds_service.day_rounds(
            session=session, date=date, practitioner_id=practitioner_id
        )
        for route in day.routes:
            for stop in route.stops:
                stops[stop.appointment_id] = stop
    return stops


def _order_key(a: Appointment, plan: dict[int, Any]) -> tuple:
    stop = plan.get(a.id)
    return (
        0 if stop is not None else 1,
        stop.order if stop is not None else 0,
        a.route_order if a.route_order is not None else 10_000,
        a.planned_arrival or a.start_at,
        a.start_at,
        a.id,
    )


def _stops(
    *,
    duty: DutySession,
    items: list[Appointment],
    practitioner: Practitioner,
    patients: dict[int, Patient],
    reasons: dict[int, str],
    outcomes: dict[int, VisitOutcome],
    plan: dict[int, Any],
    travel: TravelTimeProvider,
    visit_minutes: int,
) -> tuple[list[StopOut], float | None]:
    items = sorted(items, key=lambda a: _order_key(a, plan))
    legs: list[float | None] = [None] * len(items)
    arrivals: list[dt.datetime | None] = [a.planned_arrival for a in items]
    sources: list[str | None] = [None] * len(items)
    windows = [(a.start_at, a.end_at) for a in items]
    if duty.kind == SessionKind.home_visit and items:
        home = (practitioner.latitude, practitioner.longitude)
        points = [home]
        for a in items:
            p = patients.get(a.patient_id)
            if p is not None and p.latitude is not None and p.longitude is not None:
                points.append((p.latitude, p.longitude))
            else:
                points.append(home)
        matrix = travel.matrix(points)
        clock = duty.start_at
        for i, a in enumerate(items):
            stop = plan.get(a.id)
            if stop is not None:
                legs[i] = round(float(stop.travel_minutes), 1)
                arrivals[i] = stop.planned_arrival
                windows[i] = (stop.window_start, stop.window_end)
                sources[i] = "rounds"
                clock = stop.planned_arrival
            else:
                legs[i] = round(float(matrix[i][i + 1]), 1)
                sources[i] = "estimate"
                clock = max(clock + dt.timedelta(minutes=float(matrix[i][i + 1])), a.start_at)
                arrivals[i] = a.planned_arrival or clock
                clock = arrivals[i]  # type: ignore[assignment]
            clock = clock + dt.timedelta(minutes=a.visit_minutes or visit_minutes)
    out = []
    for i, a in enumerate(items):
        patient = patients.get(a.patient_id)
        brief = _patient_brief(patient)
        geo, osm = (
            map_links(brief.latitude, brief.longitude, brief.address) if brief else (None, None)
        )
        outcome = outcomes.get(a.id)
        out.append(
            StopOut(
                appointment_id=a.id,
                order=i + 1,
                kind=a.kind,
                status=a.status,
                origin=a.origin,
                window_start=windows[i][0],
                window_end=windows[i][1],
                planned_arrival=arrivals[i],
                travel_minutes_from_previous=legs[i],
                travel_from=(
                    None if legs[i] is None else ("cabinet" if i == 0 else "arrêt précédent")
                ),
                travel_source=sources[i],
                reason=reasons.get(a.request_id),
                patient=brief,
                maps_geo=geo if a.kind == SessionKind.home_visit else None,
                maps_osm=osm if a.kind == SessionKind.home_visit else None,
                video_url=a.video_url if a.kind == SessionKind.teleconsultation else None,
                outcome=(
                    {
                        "status": outcome.status,
                        "act_code": outcome.act_code,
                        "surcharges": outcome.surcharges,
                        "total": outcome.total,
                    }
                    if outcome
                    else None
                ),
            )
        )
    total = (
        sum(leg for leg in legs if leg is not None) if duty.kind == SessionKind.home_visit else None
    )
    return out, (round(total, 1) if total is not None else None)


async def agenda(
    *,
    session: AsyncSession,
    practitioner: Practitioner,
    date_from: dt.date,
    date_to: dt.date,
    actor: User,
    travel: TravelTimeProvider | None = None,
    visit_minutes: int = 20,
) -> AgendaOut:
    """Sessions and appointments day by day, rounds in their order with windows and travel."""
    if date_to < date_from:
        raise InvalidInput("La date de fin précède la date de début.", field="to")
    if (date_to - date_from).days >= MAX_AGENDA_DAYS:
        raise InvalidInput(f"Au plus {MAX_AGENDA_DAYS} jours à la fois.", field="to")
    travel = travel or HaversineTravelTime()
    start, end = day_bounds(date_from)[0], day_bounds(date_to)[1]
    sessions = await practitioners_service.list_sessions(
        session=session, practitioner_ids=[practitioner.id], start=start, end=end
    )
    appointments = await appointments_service.list_for_practitioner(
        session=session, practitioner_id=practitioner.id, start=start, end=end
    )
    patients = await _patients(session, {a.patient_id for a in appointments})
    reasons = dict(
        (
            await session.execute(
                select(CareRequest.id, CareRequest.reason).where(
                    CareRequest.id.in_({a.request_id for a in appointments})
                )
            )
        ).all()
    )
    outcomes = await _outcomes(session, [a.id for a in appointments])
    visit_dates = sorted(
        {
            a.start_at.astimezone(PARIS).date()
            for a in appointments
            if a.kind == SessionKind.home_visit
        }
    )
    plan = await _round_plans(session=session, practitioner_id=practitioner.id, dates=visit_dates)
    for patient_id in sorted(patients):
        await audit_service.record(
            session=session,
            actor=actor,
            action="agenda",
            entity_type="patient",
            entity_id=patient_id,
            patient_id=patient_id,
            detail={"from": date_from.isoformat(), "to": date_to.isoformat()},
        )
    titular = None
    titular_sessions: Sequence[DutySession] = []
    if practitioner.status == PractitionerStatus.adjoint and practitioner.titular_id:
        titular = await practitioners_service.get(
            session=session, practitioner_id=practitioner.titular_id
        )
        titular_sessions = await practitioners_service.list_sessions(
            session=session, practitioner_ids=[titular.id], start=start, end=end
        )
    days = []
    day = date_from
    while day <= date_to:
        blocks = []
        for duty in (s for s in sessions if s.date == day):
            items = [a for a in appointments if a.session_id == duty.id]
            stops, total = _stops(
                duty=duty,
                items=items,
                practitioner=practitioner,
                patients=patients,
                reasons=reasons,
                outcomes=outcomes,
                plan=plan,
                travel=travel,
                visit_minutes=visit_minutes,
            )
            blocks.append(
                SessionBlock(
                    id=duty.id,
                    kind=duty.kind,
                    start_at=duty.start_at,
                    end_at=duty.end_at,
                    capacity=duty.capacity,
                    open_to_sas=duty.open_to_sas,
                    appointments=stops,
                    round_travel_minutes=total,
                )
            )
        titular_day = None
        if titular is not None:
            titular_day = TitularDay(
                id=titular.id,
                name=titular.display_name,
                phone=titular.phone,
                sessions=[
                    {"kind": str(s.kind), "start_at": s.start_at, "end_at": s.end_at}
                    for s in titular_sessions
                    if s.date == day
                ],
            )
        days.append(
            AgendaDay(date=day, label=french_date(day), sessions=blocks, titular=titular_day)
        )
        day += dt.timedelta(days=1)
    return AgendaOut(
        practitioner_id=practitioner.id,
        practitioner=practitioner.display_name,
        status=practitioner.status,
        titular_id=practitioner.titular_id,
        titular=titular.display_name if titular else None,
        date_from=date_from,
        date_to=date_to,
        days=days,
    )


async def _patients(session: AsyncSession, ids: set[int]) -> dict[int, Patient]:
    if not ids:
        return {}
    rows = (await session.scalars(select(Patient).where(Patient.id.in_(ids)))).all()
    return {p.id: p for p in rows}


async def _outcomes(session: AsyncSession, ids: list[int]) -> dict[int, VisitOutcome]:
    if not ids:
        return {}
    rows = (
        await session.scalars(select(VisitOutcome).where(VisitOutcome.appointment_id.in_(ids)))
    ).all()
    return {o.appointment_id: o for o in rows}
