"""A patient's data, exported on request (RGPD art. 15, right of access; art. 20,
portability): one JSON document with everything the platform holds about them.

Identity, care requests, appointments (with the GP's recorded outcome and act), SMS sent
and received, calls from their number, the orientation case and its events, and the
audit entries about them. The export itself is written to the audit trail by the caller
(route or command), so a DPO can see who exported what.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

from app.appointments.models import Appointment
from app.audit.models import AuditEvent
from app.core.errors import NotFound
from app.gp.models import VisitOutcome
from app.messaging.models import Call, InboundSms, SmsMessage
from app.orientation.models import OrientationCase, OrientationEvent
from app.patients.models import Patient
from app.requests.models import CareRequest

FORMAT_VERSION = 1


class PatientNotFound(NotFound):
    code = "patient_not_found"
    default_message = "Patient introuvable."


def _value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return value


def row(obj: DeclarativeBase) -> dict[str, Any]:
    """Every column of a row, JSON-ready (dates in ISO 8601, enums by value)."""
    return {c.key: _value(getattr(obj, c.key)) for c in obj.__mapper__.column_attrs}


async def load_patient(session: AsyncSession, patient_id: int) -> Patient:
    # An id beyond the column's range cannot exist (and PostgreSQL would refuse it).
    patient = await session.get(Patient, patient_id) if 0 < patient_id < 2**31 else None
    if patient is None:
        raise PatientNotFound(f"Patient n° {patient_id} introuvable.")
    return patient


def calls_of(patient: Patient) -> Any:
    """Calls from the patient's number (the calls log matches callers by number)."""
    return select(Call).where(Call.from_number == patient.phone) if patient.phone else None


async def export(*, session: AsyncSession, patient_id: int, now: dt.datetime) -> dict[str, Any]:
    patient = await load_patient(session, patient_id)
    requests = (
        await session.scalars(
            select(CareRequest).where(CareRequest.patient_id == patient_id).order_by(CareRequest.id)
        )
    ).all()
    appointments = (
        await session.scalars(
            select(Appointment).where(Appointment.patient_id == patient_id).order_by(Appointment.id)
        )
    ).all()
    outcomes = {
        o.appointment_id: o
        for o in await session.scalars(
            select(VisitOutcome).where(
                VisitOutcome.appointment_id.in_([a.id for a in appointments])
            )
        )
    }
    sent = (
        await session.scalars(
            select(SmsMessage).where(SmsMessage.patient_id == patient_id).order_by(SmsMessage.id)
        )
    ).all()
    received_from = [InboundSms.patient_id == patient_id]
    if patient.phone:
        received_from.append(InboundSms.from_number == patient.phone)
    received = (
        await session.scalars(select(InboundSms).where(or_(*received_from)).order_by(InboundSms.id))
    ).all()
    calls_query = calls_of(patient)
    calls = (
        (await session.scalars(calls_query.order_by(Call.id))).all()
        if calls_query is not None
        else []
    )
    case = await session.scalar(
        select(OrientationCase).where(OrientationCase.patient_id == patient_id)
    )
    events = (
        (
            await session.scalars(
                select(OrientationEvent)
                .where(OrientationEvent.case_id == case.id)
                .order_by(OrientationEvent.id)
            )
        ).all()
        if case
        else []
    )
    audit = (
        await session.scalars(
            select(AuditEvent).where(AuditEvent.patient_id == patient_id).order_by(AuditEvent.id)
        )
    ).all()
    return {
        "format": FORMAT_VERSION,
        "generated_at": now.isoformat(),
        "patient": row(patient),
        "requests": [row(r) for r in requests],
        "appointments": [
            {**row(a), "outcome": row(outcomes[a.id]) if a.id in outcomes else None}
            for a in appointments
        ],
        "sms": {"sent": [row(m) for m in sent], "received": [row(m) for m in received]},
        "calls": [row(c) for c in calls],
        "orientation": ({"case": row(case), "events": [row(e) for e in events]} if case else None),
        "audit": [row(e) for e in audit],
    }
