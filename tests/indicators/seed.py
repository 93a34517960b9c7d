"""Rows written straight into the database: requests, sessions, appointments."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.appointments.models import Appointment, AppointmentStatus, Origin
from app.practitioners.models import DutySession, Practitioner, SessionKind
from app.requests.models import CareRequest, Channel, RequestStatus


async def duty(
    session: AsyncSession, practitioner: Practitioner, start: dt.datetime
) -> DutySession:
    row = DutySession(
        practitioner_id=practitioner.id,
        date=start.date(),
        kind=SessionKind.teleconsultation,
        start_at=start,
        end_at=start + dt.timedelta(hours=6),
        capacity=50,
    )
    session.add(row)
    await session.flush()
    return row


async def care_request(
    session: AsyncSession,
    patient_id: int,
    received_at: dt.datetime,
    *,
    channel: Channel = Channel.phone,
    status: RequestStatus = RequestStatus.scheduled,
    deadline: dt.datetime | None = None,
) -> CareRequest:
    row = CareRequest(
        patient_id=patient_id,
        channel=channel,
        received_at=received_at,
        reason="Fièvre depuis deux jours",
        status=status,
        status_changed_at=received_at,
        deadline=deadline,
    )
    session.add(row)
    await session.flush()
    return row


async def appointment(
    session: AsyncSession,
    request: CareRequest,
    practitioner: Practitioner,
    duty_session: DutySession,
    start: dt.datetime,
    *,
    status: AppointmentStatus = AppointmentStatus.fulfilled,
    kind: SessionKind = SessionKind.teleconsultation,
    origin: Origin = Origin.secretariat,
    **extra: Any,
) -> Appointment:
    row = Appointment(
        request_id=request.id,
        patient_id=request.patient_id,
        practitioner_id=practitioner.id,
        session_id=duty_session.id,
        kind=kind,
        start_at=start,
        end_at=start + dt.timedelta(minutes=15),
        status=status,
        origin=origin,
        status_changed_at=start,
        **extra,
    )
    session.add(row)
    await session.flush()
    return row
