"""Orientation state on the app: its settings, the periodic sweep, and the outcome listener."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.appointments.effects import Effect
from app.appointments.events import AppointmentEvent, EventKind
from app.appointments.models import AppointmentStatus
from app.core.config import Settings
from app.orientation import notifications
from app.orientation import service as orientation_service
from app.outbox.jobs import register_periodic
from app.outbox.registry import register


async def enter_seen_patient(session: AsyncSession, event: AppointmentEvent) -> None:
    """A patient seen by the platform without médecin traitant joins the orientation list."""
    if event.kind == EventKind.outcome and event.appointment.status == AppointmentStatus.fulfilled:
        await orientation_service.enter_patient(
            session=session,
            patient_id=event.appointment.patient_id,
            actor=event.actor,
            now=event.now,
        )


def setup(app: FastAPI, settings: Settings) -> None:
    app.state.orientation_settings = settings.orientation
    register_periodic(
        app,
        "orientation.sweep",
        app.state.orientation_settings.sweep_interval_seconds,
        orientation_service.run_sweep,
    )
    app.state.appointment_listeners.register(Effect.ORIENTATION, enter_seen_patient)
    register(app, notifications.TOPIC, notifications.send)
