"""Waiting list on the app: the backfill effect, the OUI/NON hook, the periodic sweep."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.appointments.effects import Effect
from app.appointments.events import AppointmentEvent
from app.appointments.service import BookingContext
from app.core.config import Settings
from app.messaging.models import InboundSms
from app.outbox.jobs import register_periodic
from app.patients.models import Patient
from app.waitlist import service

SWEEP_JOB = "waitlist.sweep"
SWEEP_INTERVAL_S = 30  # offers expire within half a minute of their hold


def backfill(app: FastAPI) -> service.Backfill:
    """Read when used: a test may point the telephony settings elsewhere before startup."""
    telephony = app.state.telephony_settings
    return service.Backfill(
        hold_minutes=app.state.settings.waitlist_offer_hold_minutes,
        cpts_name=telephony.cpts_name,
        secretariat_phone=telephony.secretariat_phone,
        tz=telephony.tz,
        planner=getattr(app.state, "rounds_planner", None),
        sms_replies=telephony.reply_capable,
    )


async def sweep_job(app: FastAPI) -> service.Swept:
    async with app.state.sessionmaker() as session, session.begin():
        return await service.sweep(session=session, now=app.state.clock(), bf=backfill(app))


def setup(app: FastAPI, settings: Settings) -> None:
    async def on_event(session: AsyncSession, event: AppointmentEvent) -> None:
        await service.on_appointment_event(session, event, backfill(app))

    async def on_reply(
        session: AsyncSession, inbound: InboundSms, patients: list[Patient], ctx: BookingContext
    ) -> bool:
        return await service.answer(session, inbound, patients, ctx, backfill(app))

    app.state.appointment_listeners.register(Effect.WAITLIST, on_event)
    hooks = getattr(app.state, "sms_reply_hooks", None)
    if hooks is None:
        hooks = app.state.sms_reply_hooks = []
    hooks.append(on_reply)
    register_periodic(app, SWEEP_JOB, SWEEP_INTERVAL_S, sweep_job)
