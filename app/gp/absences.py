"""An absence over booked appointments: refused, or each one reassigned or cancelled."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.agenda import service as agenda_service
from app.appointments import service as appointments_service
from app.appointments.models import Appointment, AppointmentStatus
from app.appointments.schemas import RescheduleIn
from app.core.errors import Conflict
from app.core.timeutil import PARIS, aware
from app.gp.schemas import AbsenceDeclarationIn, AbsenceDeclarationOut, MovedAppointment, OnConflict
from app.gp.service import _optional
from app.practitioners import service as practitioners_service
from app.practitioners.models import Practitioner, PractitionerStatus, SessionKind
from app.practitioners.schemas import AbsenceIn
from app.requests.models import CareRequest

logger = logging.getLogger(__name__)

CANCEL_REASON = "Absence du médecin"
SEARCH_DAYS_WITHOUT_DEADLINE = 7


def _hhmm(value: dt.datetime) -> str:
    return value.astimezone(PARIS).strftime("%d/%m %H:%M")


async def declare_absence(
    *,
    session: AsyncSession,
    practitioner: Practitioner,
    declaration: AbsenceDeclarationIn,
    actor: User,
    ctx: appointments_service.BookingContext,
    planner: Any | None = None,
) -> AbsenceDeclarationOut:
    """Record the absence; booked appointments first go to another GP, or are cancelled."""
    start_at, end_at = aware(declaration.start_at, PARIS), aware(declaration.end_at, PARIS)
    booked = [
        a
        for a in await appointments_service.list_for_practitioner(
            session=session, practitioner_id=practitioner.id, start=start_at, end=end_at
        )
        if a.status == AppointmentStatus.booked
    ]
    moved: list[MovedAppointment] = []
    if booked and declaration.on_conflict == OnConflict.reassign:
        moved = await _reassign_all(
            session=session,
            practitioner=practitioner,
            appointments=booked,
            absence=(start_at, end_at),
            actor=actor,
            ctx=ctx,
            planner=planner,
        )
    elif booked and declaration.on_conflict == OnConflict.cancel:
        for a in booked:
            previous = a.start_at
            await appointments_service.cancel(
                session=session,
                appointment_id=a.id,
                reason=CANCEL_REASON,
                by_patient=False,
                actor=actor,
                ctx=ctx,
            )
            moved.append(
                MovedAppointment(appointment_id=a.id, from_start=previous, how="cancelled")
            )
    elif booked:
        listed = ", ".join(f"n°{a.id} ({_hhmm(a.start_at)})" for a in booked)
        raise Conflict(
            f"{len(booked)} rendez-vous sont pris pendant cette absence : {listed}. "
            "Choisissez ce qu'ils deviennent : on_conflict=reassign (confiés à un autre médecin "
            "avant leur échéance) ou on_conflict=cancel (annulés, patients prévenus par SMS).",
            code="absence_over_appointments",
            appointment_ids=[a.id for a in booked],
        )
    absence = await agenda_service.add_absence(
        session=session,
        practitioner=practitioner,
        absence_in=AbsenceIn(start_at=start_at, end_at=end_at, reason=declaration.reason),
    )
    return AbsenceDeclarationOut(
        absence_id=absence.id,
        practitioner_id=practitioner.id,
        start_at=absence.start_at,
        end_at=absence.end_at,
        reason=absence.reason,
        appointments=moved,
    )


async def _reassign_all(
    *,
    session: AsyncSession,
    practitioner: Practitioner,
    appointments: list[Appointment],
    absence: tuple[dt.datetime, dt.datetime],
    actor: User,
    ctx: appointments_service.BookingContext,
    planner: Any | None,
) -> list[MovedAppointment]:
    moved: list[MovedAppointment] = []
    stranded: list[tuple[int, dt.datetime]] = []
    # Read before any attempt: a refused attempt rolls its savepoint back.
    plan = [(a, a.id, a.start_at) for a in sorted(appointments, key=lambda x: x.start_at)]
    for a, appointment_id, previous in plan:
        done = await _reassign_one(
            session=session,
            appointment=a,
            absent=practitioner,
            absence=absence,
            actor=actor,
            ctx=ctx,
            planner=planner,
        )
        if done is None:
            stranded.append((appointment_id, previous))
            continue
        target = await practitioners_service.get(
            session=session, practitioner_id=done.practitioner_id
        )
        moved.append(
            MovedAppointment(
                appointment_id=appointment_id,
                from_start=previous,
                to_practitioner_id=target.id,
                to_practitioner=target.display_name,
                to_start=done.start_at,
                to_end=done.end_at,
                how="reassigned",
            )
        )
    if stranded:
        listed = ", ".join(f"n°{i} ({_hhmm(start)})" for i, start in stranded)
        # Nothing is half done: the request's transaction is rolled back with this error.
        raise Conflict(
            f"Aucun autre médecin n'est disponible avant l'échéance pour : {listed}. "
            "Choisissez on_conflict=cancel, ou déplacez ces rendez-vous avec le secrétariat.",
            code="reassignment_impossible",
            appointment_ids=[i for i, _start in stranded],
        )
    return moved


async def _candidates(
    *,
    session: AsyncSession,
    appointment: Appointment,
    care_request: CareRequest,
    ctx: appointments_service.BookingContext,
    planner: Any | None,
) -> list[tuple[int, dt.datetime, dt.datetime]]:
    """Other GPs' options before the deadline: the scheduler's proposals, else free slots."""
    proposals = _optional("app.rounds.proposals")
    if proposals is not None and planner is not None and hasattr(proposals, "options"):
        options = await proposals.options(
            session=session, care_request=care_request, k=20, planner=planner, now=ctx.now
        )
        found = [
            (o.practitioner_id, o.start_at, o.end_at) for o in options if o.kind == appointment.kind
        ]
        if found:
            return found
    now = ctx.now
    deadline = (
        care_request.deadline if care_request.deadline and care_request.deadline > now else None
    )
    horizon = (
        deadline + dt.timedelta(seconds=1)
        if deadline
        else now + dt.timedelta(days=SEARCH_DAYS_WITHOUT_DEADLINE)
    )
    if appointment.kind != SessionKind.home_visit:
        slots = await appointments_service.free_slots(
            session=session, start=now, end=horizon, kind=appointment.kind, now=now
        )
        return [(duty.practitioner_id, s, e) for duty, s, e in slots]
    # Home visits without the rounds planner: the same window in another GP's round that
    # day, else the start of another round, while it has room.
    length = appointment.end_at - appointment.start_at
    out = []
    for duty in await practitioners_service.list_sessions(
        session=session, practitioner_ids=None, start=now, end=horizon, kind=SessionKind.home_visit
    ):
        used = await appointments_service.count_in_session(session=session, session_id=duty.id)
        if used >= duty.capacity:
            continue
        if duty.start_at <= appointment.start_at and appointment.end_at <= duty.end_at:
            out.append((duty.practitioner_id, appointment.start_at, appointment.end_at))
        start = max(duty.start_at, now)
        if start + length <= duty.end_at:
            out.append((duty.practitioner_id, start, start + length))
    out.sort(key=lambda c: (abs((c[1] - appointment.start_at).total_seconds()), c[0]))
    return out


async def _reassign_one(
    *,
    session: AsyncSession,
    appointment: Appointment,
    absent: Practitioner,
    absence: tuple[dt.datetime, dt.datetime],
    actor: User,
    ctx: appointments_service.BookingContext,
    planner: Any | None,
) -> Appointment | None:
    appointment_id = appointment.id
    care_request = await session.get(CareRequest, appointment.request_id)
    assert care_request is not None
    candidates = await _candidates(
        session=session,
        appointment=appointment,
        care_request=care_request,
        ctx=ctx,
        planner=planner,
    )
    people: dict[int, Practitioner] = {}
    for practitioner_id, start, end in candidates:
        if practitioner_id == absent.id:
            continue
        if practitioner_id not in people:
            people[practitioner_id] = await practitioners_service.get(
                session=session, practitioner_id=practitioner_id
            )
        gp = people[practitioner_id]
        # The absent titular's adjoint cannot work without them.
        if (
            gp.status == PractitionerStatus.adjoint
            and gp.titular_id == absent.id
            and start < absence[1]
            and absence[0] < end
        ):
            continue
        try:
            async with session.begin_nested():
                return await appointments_service.reschedule(
                    session=session,
                    appointment_id=appointment_id,
                    reschedule_in=RescheduleIn(
                        start_at=start, end_at=end, practitioner_id=practitioner_id
                    ),
                    actor=actor,
                    ctx=ctx,
                )
        except Conflict as exc:
            logger.info(
                "reassignment of %s to %s refused: %s", appointment_id, practitioner_id, exc
            )
            continue
    return None
