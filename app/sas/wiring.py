"""SAS state on the app: settings, CPTS identity, outbound client, listeners, FHIR errors.

The outbound client (INT_R03) exists only when ``SAS_BASE_URL`` is set; without it, pushes
stay in the outbox with the reason "SAS_BASE_URL non configuré" until it is.
"""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.appointments.effects import Effect
from app.appointments.events import AppointmentEvent
from app.core.config import Settings
from app.core.timeutil import PARIS
from app.outbox.registry import register
from app.practitioners.models import SessionKind
from app.sas import push
from app.sas.client import SasClient
from app.sas.config import SasSettings
from app.sas.fhir import install_fhir_handlers
from app.sas.slots import HomeVisitWindows


def configure(app: FastAPI, sas_settings: SasSettings) -> None:
    """Put the SAS settings and what derives from them on the app (before its lifespan)."""
    app.state.sas_settings = sas_settings
    app.state.sas_cpts = sas_settings.cpts_identity()
    app.state.sas_home_visit_windows = HomeVisitWindows(
        ttl=sas_settings.sas_home_visit_cache_seconds
    )


def setup(app: FastAPI, settings: Settings) -> None:
    configure(app, settings.sas)
    app.state.sas_client = None

    async def forget_home_visit_day(session: AsyncSession, event: AppointmentEvent) -> None:
        appointment = event.appointment
        if appointment.kind != SessionKind.home_visit:
            return
        windows: HomeVisitWindows = app.state.sas_home_visit_windows
        windows.drop_day(appointment.start_at.astimezone(PARIS).date())
        if event.previous_start is not None:
            windows.drop_day(event.previous_start.astimezone(PARIS).date())

    app.state.appointment_listeners.register(Effect.SAS_PUSH, push.on_appointment_event)
    app.state.appointment_listeners.register(Effect.SAS_HOME_VISIT_WINDOWS, forget_home_visit_day)
    register(app, push.TOPIC, push.send_appointment)
    install_fhir_handlers(app)

    async def open_client(app: FastAPI) -> None:
        current: SasSettings = app.state.sas_settings
        if current.sas_base_url and app.state.sas_client is None:
            app.state.sas_client = SasClient.from_settings(
                current, fhir_base_url=f"{settings.public_base_url.rstrip('/')}/fhir"
            )

    async def close_client(app: FastAPI) -> None:
        client = app.state.sas_client
        app.state.sas_client = None
        if client is not None:
            await client.aclose()

    app.state.on_startup.append(open_client)
    app.state.on_shutdown.append(close_client)
