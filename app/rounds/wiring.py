"""Rounds on the app: settings, the planner (travel provider, solver threads), the worker job."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.appointments.effects import Effect
from app.appointments.events import AppointmentEvent, EventKind
from app.core.config import Settings
from app.outbox.jobs import register_periodic
from app.rounds import replans
from app.rounds import service as rounds_service
from app.rounds.planner import Planner

JOB_NAME = "rounds.optimise_before_session"
JOB_INTERVAL_S = 300
REPLAN_JOB_NAME = "rounds.replan_after_bookings"
REPLAN_JOB_INTERVAL_S = 2.0  # leases of 1 s: the worker renews them every 0.3 s


async def optimise_before_session_job(app: FastAPI) -> None:
    """Worker job: optimise today's (before 10:00) and tomorrow's rounds; skips when unchanged."""
    async with app.state.sessionmaker() as session:
        await rounds_service.optimise_before_session(
            session=session, planner=app.state.rounds_planner, now=app.state.clock()
        )
        await session.commit()


async def replan_after_bookings_job(app: FastAPI) -> None:
    """Worker job: re-optimise the mornings where bookings were inserted (debounced)."""
    async with app.state.sessionmaker() as session:
        await replans.run_pending(
            session=session,
            planner=app.state.rounds_planner,
            now=app.state.clock(),
            debounce_s=app.state.rounds_settings.rounds_replan_debounce_s,
        )


def setup(app: FastAPI, settings: Settings) -> None:
    # Read at startup, so a test may swap `app.state.rounds_settings` before the lifespan.
    app.state.rounds_settings = settings.rounds

    async def start(app: FastAPI) -> None:
        planner = Planner.from_settings(
            app.state.rounds_settings,
            window_minutes=settings.arrival_window_minutes,
            home_visit_minutes=settings.home_visit_minutes,
        )
        planner.listeners = app.state.appointment_listeners
        planner.start()
        app.state.rounds_planner = planner

    async def stop(app: FastAPI) -> None:
        planner = getattr(app.state, "rounds_planner", None)
        if planner is not None:
            planner.close()

    async def replan_after_cancellation(session: AsyncSession, event: AppointmentEvent) -> None:
        """A cancelled home visit frees time: the worker re-plans that morning, promises kept."""
        if event.kind == EventKind.cancelled:
            await replans.on_appointment_cancelled(
                session=session, appointment=event.appointment, now=event.now
            )

    app.state.appointment_listeners.register(Effect.REPLAN_ROUNDS, replan_after_cancellation)
    app.state.on_startup.append(start)
    app.state.on_shutdown.append(stop)
    register_periodic(app, JOB_NAME, JOB_INTERVAL_S, optimise_before_session_job)
    register_periodic(app, REPLAN_JOB_NAME, REPLAN_JOB_INTERVAL_S, replan_after_bookings_job)
