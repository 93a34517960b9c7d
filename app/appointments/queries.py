"""Questions other domains ask about appointments, answered here where the table lives."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.appointments.models import ACTIVE_STATUSES, Appointment, AppointmentStatus
from app.patients.models import Patient
from app.practitioners.eligibility import Held
from app.requests.models import CareRequest


async def active_between(
    *,
    session: AsyncSession,
    practitioner_ids: Collection[int],
    start: dt.datetime,
    end: dt.datetime,
) -> list[int]:
    """Ids of these practitioners' appointments (booked or held) overlapping ``[start, end)``."""
    return list(
        (
            await session.scalars(
                select(Appointment.id)
                .where(
                    Appointment.practitioner_id.in_(practitioner_ids),
                    Appointment.status.in_(ACTIVE_STATUSES),
                    Appointment.start_at < end,
                    Appointment.end_at > start,
                )
                .order_by(Appointment.id)
            )
        ).all()
    )


async def has_seen(*, session: AsyncSession, practitioner_id: int, patient_id: int) -> bool:
    """Whether this practitioner has an appointment with this patient that happened or will.

    Booked (to come), fulfilled (seen) and noshow (the GP recorded the absence and may call
    back) count; a cancelled or merely held slot does not: a GP whose only appointment was
    cancelled no longer reads the file (secret médical, CSP art. L. 1110-4: only the team
    taking care of the patient).
    """
    seen = await session.scalar(
        select(Appointment.id)
        .where(
            Appointment.patient_id == patient_id,
            Appointment.practitioner_id == practitioner_id,
            Appointment.status.in_(
                (AppointmentStatus.booked, AppointmentStatus.fulfilled, AppointmentStatus.noshow)
            ),
        )
        .limit(1)
    )
    return seen is not None


async def regulator_booked(*, session: AsyncSession, user_id: int, patient_id: int) -> bool:
    """Whether this regulator holds a live (not cancelled) booking of theirs for the patient."""
    found = await session.scalar(
        select(Appointment.id)
        .where(
            Appointment.patient_id == patient_id,
            Appointment.sas_regulator_id == user_id,
            Appointment.status != AppointmentStatus.cancelled,
        )
        .limit(1)
    )
    return found is not None


async def held_in_sessions(
    session: AsyncSession, session_ids: Sequence[int]
) -> dict[int, list[Held]]:
    """The active appointments of these sessions, by session (eligibility's capacity)."""
    if not session_ids:
        return {}
    rows = await session.execute(
        select(
            Appointment.session_id,
            Appointment.id,
            Appointment.kind,
            Appointment.start_at,
            Appointment.end_at,
        ).where(Appointment.session_id.in_(session_ids), Appointment.status.in_(ACTIVE_STATUSES))
    )
    out: dict[int, list[Held]] = {}
    for session_id, appointment_id, kind, a_start, a_end in rows.all():
        out.setdefault(session_id, []).append(Held(appointment_id, kind, a_start, a_end))
    return out


async def patients_and_reasons(
    session: AsyncSession, appointments: Sequence[Appointment]
) -> tuple[dict[int, Patient], dict[int, str]]:
    """The patients of these appointments by id, and their requests' reasons by request id."""
    if not appointments:
        return {}, {}  # an empty day: no round trip for two empty IN lists
    patients = {
        p.id: p
        for p in (
            await session.scalars(
                select(Patient).where(Patient.id.in_({a.patient_id for a in appointments}))
            )
        ).all()
    }
    reasons = dict(
        (
            await session.execute(
                select(CareRequest.id, CareRequest.reason).where(
                    CareRequest.id.in_({a.request_id for a in appointments})
                )
            )
        ).all()
    )
    return patients, reasons


async def in_period(
    session: AsyncSession,
    *,
    practitioner_ids: Collection[int],
    start: dt.datetime,
    end: dt.datetime,
) -> list[Appointment]:
    """These practitioners' appointments overlapping ``[start, end)``, cancelled ones left out.

    One query for a whole agenda grid (the team's day, a GP's week), in time order.
    """
    if not practitioner_ids:
        return []
    return list(
        (
            await session.scalars(
                select(Appointment)
                .where(
                    Appointment.practitioner_id.in_(practitioner_ids),
                    Appointment.status != AppointmentStatus.cancelled,
                    Appointment.start_at < end,
                    Appointment.end_at > start,
                )
                .order_by(Appointment.start_at, Appointment.id)
            )
        ).all()
    )
