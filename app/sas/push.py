"""INT_R03 through the outbox: every event of a SAS appointment queued, then pushed in order.

The listener runs inside the booking transaction and only queues (topic
``sas_appointment``, one message per event, ordering key per appointment). The handler,
run by the worker, builds the FrAppointmentSAS from the database at send time (the
regulator's identifiers as INT_R02 last gave them) and the state the event recorded, so
each version reaches the SAS in the order it happened; the first one is a ``POST``,
the rest conditional ``PUT`` with the same identifier.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.appointments.events import AppointmentEvent
from app.appointments.models import Appointment, Origin
from app.outbox import service as outbox_service
from app.outbox.errors import PermanentError, TransientError
from app.outbox.models import OutboxMessage
from app.practitioners.models import Practitioner, SessionKind
from app.sas.client import PermanentPushError, TransientPushError
from app.sas.service import regulator_identifier
from app.sas.slots import slot_id
from app.sas.views import AppointmentView

TOPIC = "sas_appointment"
NOT_CONFIGURED = "SAS_BASE_URL non configuré : envoi au SAS en attente"
_SLOT_PREFIX = {
    SessionKind.teleconsultation: "vr",
    SessionKind.practice: "amb",
    SessionKind.home_visit: "hh",
}


def ordering_key(appointment_id: int) -> str:
    # Our own key, not "appointment:{id}": a failed SMS of the same appointment must not
    # hold the SAS pushes back (the worker orders by key across topics).
    return f"sas:appointment:{appointment_id}"


async def on_appointment_event(session: AsyncSession, event: AppointmentEvent) -> None:
    """Queue the SAS push of this event when the appointment came from the SAS."""
    appointment = event.appointment
    if appointment.origin != Origin.sas:
        return
    if not appointment.sas_identifier:
        appointment.sas_identifier = str(uuid.uuid4())
    key = ordering_key(appointment.id)
    earlier = await session.scalar(
        select(func.count(OutboxMessage.id)).where(
            OutboxMessage.topic == TOPIC, OutboxMessage.ordering_key == key
        )
    )
    sequence = (earlier or 0) + 1
    await outbox_service.enqueue(
        session=session,
        topic=TOPIC,
        key=f"{TOPIC}:{appointment.id}:{sequence}",
        ordering_key=key,
        payload={
            "appointment_id": appointment.id,
            "event": str(event.kind),
            "first": sequence == 1,
            "status": str(appointment.status),
            "start": appointment.start_at.isoformat(),
            "end": appointment.end_at.isoformat(),
            "practitioner_id": appointment.practitioner_id,
            "session_id": appointment.session_id,
            "kind": str(appointment.kind),
        },
        now=event.now,
    )
    await session.flush()


async def build_view(
    *, session: AsyncSession, payload: dict[str, Any], identifier_system: str
) -> AppointmentView:
    """The AppointmentView of one queued event; a PermanentError when it cannot exist."""
    appointment = await session.get(Appointment, int(payload["appointment_id"]))
    if appointment is None or not appointment.sas_identifier:
        raise PermanentError("rendez-vous SAS introuvable (supprimé ?)")
    practitioner = await session.get(Practitioner, int(payload["practitioner_id"]))
    if practitioner is None:
        raise PermanentError("médecin du rendez-vous introuvable")
    regulator = (
        await session.get(User, appointment.sas_regulator_id)
        if appointment.sas_regulator_id
        else None
    )
    operator = regulator_identifier(regulator) if regulator is not None else None
    if operator is None:
        raise PermanentError(
            "rendez-vous SAS sans régulateur identifié (ni IDNPS ni identifiant technique SAS)"
        )
    start = dt.datetime.fromisoformat(payload["start"])
    status = payload["status"]
    try:
        return AppointmentView(
            identifier_system=identifier_system,
            identifier_value=appointment.sas_identifier,
            status=status,
            start=start,
            end=dt.datetime.fromisoformat(payload["end"]),
            created=appointment.sas_referral_at or appointment.created_at,
            practitioner_idnps=practitioner.idnps,
            operator=operator,
            slot_id=slot_id(
                _SLOT_PREFIX.get(SessionKind(payload["kind"]), "vr"), payload["session_id"], start
            ),
            cancellation_reason=appointment.cancel_reason if status == "cancelled" else None,
        )
    except ValueError as exc:
        raise PermanentError(f"rendez-vous non transmissible au SAS : {exc}") from exc


async def send_appointment(message: OutboxMessage, app: FastAPI) -> dict[str, Any]:
    """Outbox handler of ``sas_appointment``: one POST or conditional PUT to the SAS."""
    client = getattr(app.state, "sas_client", None)
    if client is None:
        # Kept in the queue, visible to the coordinator, sent once the URL is configured.
        raise TransientError(NOT_CONFIGURED)
    async with app.state.sessionmaker() as session:
        view = await build_view(
            session=session,
            payload=message.payload,
            identifier_system=app.state.sas_settings.sas_appointment_system,
        )
    try:
        result = await client.push_appointment(view, first=bool(message.payload.get("first")))
    except TransientPushError as exc:
        raise TransientError(exc.reason, retry_after=exc.retry_after) from exc
    except PermanentPushError as exc:
        raise PermanentError(exc.reason) from exc
    return {"method": result.method, "status": result.status_code, "location": result.location}
