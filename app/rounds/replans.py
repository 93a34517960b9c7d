"""Asynchronous re-plans: a booking or a cancellation marks its morning dirty, the worker
re-optimises it.

A home visit booked from a proposal is only inserted into the round in force inside
the request (milliseconds, promises checked); the full re-optimisation of that morning
runs afterwards in the worker, debounced: the day's one row is refreshed by each
booking, and the job picks a day once no booking came for ``rounds_replan_debounce_s``
(or the oldest waiting booking is 6 periods old: a steady stream of bookings is still
re-planned, without a solver run after every booking).
A cancelled home visit (API, web, SMS reply, cancellation link, a GP's absence: all
through ``appointments_service.cancel`` and its REPLAN_ROUNDS effect) takes the same
path: the request only marks the day, the round in force leaves the cancelled stop out
at once (:func:`app.rounds.instance.load_day` keeps booked visits only), and the worker's
run re-optimises the freed morning.
Promises stay hard in the re-plan (:func:`rounds_service.run_day`).
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.appointments.models import Appointment
from app.core.timeutil import PARIS
from app.practitioners.models import SessionKind
from app.rounds import service as rounds_service
from app.rounds.models import ReplanRequest, RoundRun, RunStatus, RunTrigger
from app.rounds.planner import Planner

logger = logging.getLogger(__name__)
# A steady stream of bookings of one morning still gets a re-plan this many periods after
# the first one waiting.
OVERDUE_PERIODS = 6


async def request_replan(
    *,
    session: AsyncSession,
    date: dt.date,
    now: dt.datetime,
    cause: RunTrigger = RunTrigger.booking,
) -> None:
    """Mark ``date`` for a re-plan by the worker (one upsert; a burst keeps one row)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(ReplanRequest).values(
        date=date, first_at=now, requested_at=now, cause=str(cause)
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[ReplanRequest.date], set_={"requested_at": now, "cause": str(cause)}
        )
    )


async def on_appointment_cancelled(
    *, session: AsyncSession, appointment: Appointment, now: dt.datetime
) -> bool:
    """The cancel flow's hook: mark the day of a cancelled home visit for the worker.

    No solver run in the request (issue 21: the solver leaves the request path); does
    nothing for a teleconsultation or a past day. True when the day was marked.
    """
    if appointment.kind != SessionKind.home_visit:
        return False
    date = appointment.start_at.astimezone(PARIS).date()
    if date < now.astimezone(PARIS).date():
        return False
    await request_replan(session=session, date=date, now=now, cause=RunTrigger.cancellation)
    return True


async def pending(*, session: AsyncSession) -> list[ReplanRequest]:
    return list((await session.scalars(select(ReplanRequest).order_by(ReplanRequest.date))).all())


async def run_pending(
    *, session: AsyncSession, planner: Planner, now: dt.datetime, debounce_s: float
) -> list[RoundRun]:
    """Re-plan every day whose bookings have settled; each day's row goes with its run.

    A booking that comes during the run refreshes ``requested_at``: its row is then kept
    (deleted only if unchanged) and the day is re-planned again at the next tick.
    """
    quiet = now - dt.timedelta(seconds=debounce_s)
    overdue = now - dt.timedelta(seconds=OVERDUE_PERIODS * debounce_s)
    due = (
        await session.scalars(
            select(ReplanRequest)
            .where(or_(ReplanRequest.requested_at <= quiet, ReplanRequest.first_at <= overdue))
            .order_by(ReplanRequest.date)
        )
    ).all()
    marks = [(row.date, row.requested_at, RunTrigger(row.cause)) for row in due]
    await session.commit()  # no lock held during the solver runs
    runs = []
    for date, requested_at, cause in marks:
        run = await rounds_service.run_day(
            session=session, date=date, planner=planner, now=now, trigger=cause
        )
        if run is not None and run.status != RunStatus.succeeded:
            # The plan in force (with the insertions) stays; the next tick tries again.
            await session.commit()
            logger.warning("rounds of %s: re-plan after bookings failed (run %s)", date, run.id)
            continue
        await session.execute(
            delete(ReplanRequest).where(
                ReplanRequest.date == date, ReplanRequest.requested_at == requested_at
            )
        )
        await session.commit()
        if run is not None:
            logger.info("rounds of %s re-planned after bookings: run %s", date, run.id)
            runs.append(run)
    return runs
