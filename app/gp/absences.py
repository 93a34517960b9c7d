"""An absence over booked appointments: refused, or each one reassigned or cancelled."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.appointments import queries as appointments_queries
from app.appointments import service as appointments_service
from app.appointments.models import Appointment, AppointmentStatus
from app.appointments.schemas import RescheduleIn
from app.core.errors import Conflict
from app.core.timeutil import PARIS, aware
from app.gp.schemas import AbsenceDeclarationIn, AbsenceDeclarationOut, MovedAppointment, OnConflict
from app.practitioners import eligibility
from app.practitioners import service as practitioners_service
from app.practitioners.models import Practitioner, SessionKind
from app.practitioners.schemas import AbsenceIn
from app.requests.models import CareRequest
from app.rounds import proposals as rounds_proposals
from app.rounds.planner import Planner

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
    planner: Planner | None = None,
) -> AbsenceDeclarationOut:
    """Record the absence; booked appointments first go to another GP, or are cancelled.

    A titular's absence also closes their adjoints' sessions: the adjoints' appointments
    over the same hours follow the same choice (refused, reassigned or cancelled).
    """
    start_at, end_at = aware(declaration.start_at, PARIS), aware(declaration.end_at, PARIS)
    affected = [practitioner.id] + await practitioners_service.adjoints_of(
        session=session, practitioner=practitioner
    )
    booked: list[Appointment] = []
    for pid in affected:
        booked += [
            a
            for a in await appointments_service.list_for_practitioner(
                session=session, practitioner_id=pid, start=start_at, end=end_at
            )
            if a.status == AppointmentStatus.booked
        ]
    booked.sort(key=lambda a: (a.start_at, a.id))
    if booked and declaration.on_conflict not in (OnConflict.reassign, OnConflict.cancel):
        listed = ", ".join(f"n°{a.id} ({_hhmm(a.start_at)})" for a in booked)
        raise Conflict(
            f"{len(booked)} rendez-vous sont pris pendant cette absence : {listed}. "
            "Choisissez ce qu'ils deviennent : on_conflict=reassign (confiés à un autre médecin "
            "avant leur échéance) ou on_conflict=cancel (annulés, patients prévenus par SMS).",
            code="absence_over_appointments",
            appointment_ids=[a.id for a in booked],
        )
    # Recorded first, so that every candidate of a reassignment sees it (eligibility).
    absence = practitioners_service.new_absence(
        practitioner=practitioner,
        absence_in=AbsenceIn(start_at=start_at, end_at=end_at, reason=declaration.reason),
    )
    session.add(absence)
    await session.flush()
    moved: list[MovedAppointment] = []
    if booked and declaration.on_conflict == OnConflict.reassign:
        moved = await _reassign_all(
            session=session,
            absent_ids=set(affected),
            appointments=booked,
            actor=actor,
            ctx=ctx,
            planner=planner,
        )
    elif booked:
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
    await practitioners_service.add_absence(
        session=session,
        practitioner=practitioner,
        absence_in=AbsenceIn(start_at=start_at, end_at=end_at, reason=declaration.reason),
        recorded=absence,
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
    absent_ids: set[int],
    appointments: list[Appointment],
    actor: User,
    ctx: appointments_service.BookingContext,
    planner: Planner | None,
) -> list[MovedAppointment]:
    moved: list[MovedAppointment] = []
    stranded: list[tuple[int, dt.datetime]] = []
    # Read before any attempt: a refused attempt rolls its savepoint back.
    plan = [(a, a.id, a.start_at) for a in sorted(appointments, key=lambda x: x.start_at)]
    for a, appointment_id, previous in plan:
        done = await _reassign_one(
            session=session,
            appointment=a,
            absent_ids=absent_ids,
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
    planner: Planner | None,
) -> list[tuple[int, dt.datetime, dt.datetime]]:
    """Other GPs' options before the deadline: the scheduler's proposals, else free slots.

    Every source asks ``eligibility``, which already sees the absence being declared.
    """
    if planner is not None:
        options = await rounds_proposals.options(
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
    roster = await eligibility.load(
        session,
        start=now,
        end=horizon,
        kinds=[SessionKind.home_visit],
        held=appointments_queries.held_in_sessions,
    )
    out = []
    for duty in roster.sessions_of_kind(SessionKind.home_visit):
        gp = roster.people.get(duty.practitioner_id)
        if gp is None:
            continue
        windows = [(max(duty.start_at, now), max(duty.start_at, now) + length)]
        if duty.start_at <= appointment.start_at and appointment.end_at <= duty.end_at:
            windows.insert(0, (appointment.start_at, appointment.end_at))
        for start, end in windows:
            if eligibility.slot_refusal(roster, gp, SessionKind.home_visit, start, end)[1] is None:
                out.append((duty.practitioner_id, start, end))
    out.sort(key=lambda c: (abs((c[1] - appointment.start_at).total_seconds()), c[0]))
    return out


async def _reassign_one(
    *,
    session: AsyncSession,
    appointment: Appointment,
    absent_ids: set[int],
    actor: User,
    ctx: appointments_service.BookingContext,
    planner: Planner | None,
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
    for practitioner_id, start, end in candidates:
        if practitioner_id in absent_ids:
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
