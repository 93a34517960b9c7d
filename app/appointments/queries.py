"""Questions other domains ask about appointments, answered here where the table lives."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.appointments.models import ACTIVE_STATUSES, Appointment


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
    """Whether this practitioner has (or had) an appointment with this patient."""
    seen = await session.scalar(
        select(Appointment.id)
        .where(Appointment.patient_id == patient_id, Appointment.practitioner_id == practitioner_id)
        .limit(1)
    )
    return seen is not None
