"""Messaging on the app: telephony provider, SMS sender, listeners, reminders, link page."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.appointments.effects import Effect
from app.appointments.events import AppointmentEvent
from app.core.config import Settings
from app.messaging import outbound, pages
from app.outbox.jobs import register_periodic
from app.outbox.registry import register
from telephony import CancelLinkSigner, TelephonySettings, build_provider

REMINDER_JOB = "messaging.reminders"
REMINDER_INTERVAL_S = 60


def setup(app: FastAPI, settings: Settings) -> None:
    # Read here (not at import); the provider is built at startup from whatever is on
    # `app.state.telephony_settings` then, so a test may point it at the fake Twilio.
    app.state.telephony_settings = settings.telephony
    app.state.telephony = None

    async def start(app: FastAPI) -> None:
        tsettings: TelephonySettings = app.state.telephony_settings
        app.state.telephony = build_provider(tsettings)
        secret = tsettings.cancel_link_secret.get_secret_value() or settings.secret_key
        app.state.cancel_links = CancelLinkSigner(secret)

    async def stop(app: FastAPI) -> None:
        if app.state.telephony is not None:
            await app.state.telephony.aclose()
            app.state.telephony = None

    async def on_event(session: AsyncSession, event: AppointmentEvent) -> None:
        await outbound.on_appointment_event(app, session, event)

    app.state.on_startup.append(start)
    app.state.on_shutdown.append(stop)
    app.state.appointment_listeners.register(Effect.SMS, on_event)
    register(app, outbound.TOPIC, outbound.deliver)
    register_periodic(app, REMINDER_JOB, REMINDER_INTERVAL_S, outbound.queue_due_reminders)

    path = "/" + app.state.telephony_settings.cancel_link_path.strip("/") + "/{token}"
    app.add_api_route(
        path,
        pages.cancel_page,
        methods=["GET"],
        response_class=HTMLResponse,
        include_in_schema=False,
    )
    app.add_api_route(
        path,
        pages.cancel_confirm,
        methods=["POST"],
        response_class=HTMLResponse,
        include_in_schema=False,
    )
