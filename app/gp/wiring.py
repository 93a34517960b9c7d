"""GP state on the app: calendar change tracking and the CPTS identity."""

from __future__ import annotations

from fastapi import FastAPI

from app.appointments.effects import Effect
from app.core.config import Settings
from app.gp import ical as ical_service


def setup(app: FastAPI, settings: Settings) -> None:
    app.state.appointment_listeners.register(Effect.ICAL, ical_service.on_appointment_event)
    cpts = getattr(app.state, "sas_cpts", None)
    app.state.gp_cpts = cpts if cpts is not None else settings.sas.cpts_identity()
