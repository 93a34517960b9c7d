"""Morning rounds in the app: optimise, re-plan on events, publish, and offer windows.

Every solver run is a ``RoundRun`` row (status, trigger, objective, drops,
renegotiations); its ``RoundRoute`` rows are the published rounds. The latest
succeeded run of a day is the plan in force. Solver calls run in the
planner's threads, never on the event loop. Services only flush.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import time
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.appointments import events
from app.appointments.models import Appointment, AppointmentStatus
from app.core import metrics
from app.core.timeutil import PARIS
from app.patients.models import Patient
from app.practitioners.models import Practitioner
from app.rounds.config import RoundsSettings
from app.rounds.instance import (
    DayData,
    appointment_of,
    current_run,
    instant,
    load_day,
    minutes,
    routes_of,
    visit_key,
)
from app.rounds.models import RoundRoute, RoundRun, RunStatus, RunTrigger
from app.rounds.planner import Planner
from app.rounds.schemas import DayRoundsOut, RenegotiateOut, RouteOut, RunOut, StopOut
from scheduler import (
    Instance,
    Parameters,
    ReplanResult,
    RoundsResult,
    TravelTimeProvider,
    Visit,
    Window,
    plan_from_orders,
    propose,
    replan,
    solve_rounds,
)

logger = logging.getLogger(__name__)


def default_planner(settings: RoundsSettings | None = None) -> Planner:
    """A planner for callers without the app: the given section, else the defaults (offline)."""
    return Planner.from_settings(settings or RoundsSettings())


def fingerprint(instance: Instance, delays: dict[str, int], params: Parameters) -> str:
    """A stable digest of what a run sees: unchanged inputs → the same plan (skip it)."""

    def default(value: Any) -> Any:
        if isinstance(value, (set, frozenset)):
            return sorted(value)
        return str(value)

    body = json.dumps(
        {
            "instance": dataclasses.asdict(instance),
            "delays": delays,
            "params": [params.seed, params.time_limit_s, params.window_width],
        },
        sort_keys=True,
        default=default,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def plan_in_force(day: DayData, params: Parameters, travel: TravelTimeProvider) -> RoundsResult:
    """The stored order re-timed; a quick insertion plan when there is none or it broke."""
    plan = plan_from_orders(day.instance, day.orders, params, travel=travel)
    if plan is None or plan.dropped:
        plan = solve_rounds(day.instance, params, travel=travel, first_solution_only=True)
    return plan


def _solve(
    day: DayData, delays: dict[str, int], params: Parameters, travel: TravelTimeProvider
) -> ReplanResult:
    """Re-optimise from the plan in force, promises hard; relax only the broken ones."""
    return replan(day.instance, params, previous=day.previous_plan(), delays=delays, travel=travel)


async def run_day(
    *,
    session: AsyncSession,
    date: dt.date,
    planner: Planner,
    now: dt.datetime,
    trigger: RunTrigger,
    actor: User | None = None,
    add_delay: tuple[int, int] | None = None,
    time_limit_s: float | None = None,
    skip_if_unchanged: bool = False,
) -> RoundRun | None:
    """Solve the day's rounds for every GP on duty and publish them (routes, appointments).

    Returns None only with ``skip_if_unchanged`` when the plan in force already
    answers the same inputs.
    """
    day = await load_day(session=session, date=date, home_visit_minutes=planner.home_visit_minutes)
    delays = dict(day.run.delays) if day.run else {}
    if add_delay is not None:
        pid, late = str(add_delay[0]), add_delay[1]
        delays[pid] = delays.get(pid, 0) + late
    limit = time_limit_s or (
        planner.settings.rounds_time_limit_s
        if trigger in (RunTrigger.optimise, RunTrigger.scheduled)
        else planner.settings.rounds_replan_time_limit_s
    )
    params = planner.params(time_limit_s=limit)
    digest = fingerprint(day.instance, delays, params)
    if skip_if_unchanged and day.run is not None and day.run.fingerprint == digest:
        return None
    # The run's own times: it starts now (the platform's clock) and lasts what it lasts.
    started = time.monotonic()
    run = RoundRun(
        date=date,
        trigger=trigger,
        status=RunStatus.running,
        started_at=now,
        requested_by_id=actor.id if actor else None,
        time_limit_s=limit,
        seed=params.seed,
        travel_provider=planner.travel_name,
        fingerprint=digest,
        delays=delays,
    )
    session.add(run)
    await session.flush()
    started = time.perf_counter()
    try:
        result = await planner.run(
            _solve, day, delays, params, planner.travel, time_limit_s=2 * limit
        )
    except Exception as exc:  # the failure is recorded, the plan in force stays
        metrics.observe_solver_run(trigger, "failed", time.perf_counter() - started)
        logger.exception("rounds run %s for %s failed", run.id, date)
        run.status = RunStatus.failed
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
        run.finished_at = _finished(now, started)
        await session.flush()
        return run
    metrics.observe_solver_run(trigger, "succeeded", time.perf_counter() - started)
    told = await _publish(session=session, run=run, day=day, result=result, planner=planner)
    for appointment_id in run.narrowed or []:
        appointment = day.appointments.get(appointment_id)
        if appointment is not None:
            await events.emit(
                session,
                planner.listeners,
                events.AppointmentEvent(events.EventKind.window_narrowed, appointment, actor, now),
            )
    # What the next run will see once these windows are told: unchanged → skipped.
    after = replace(
        day.instance,
        visits=tuple(replace(v, promised=told.get(v.id, v.promised)) for v in day.instance.visits),
    )
    run.fingerprint = fingerprint(after, delays, params)
    run.status = RunStatus.succeeded
    run.finished_at = _finished(now, started)
    await session.flush()
    return run


def _finished(started_at: dt.datetime, started: float) -> dt.datetime:
    """When the run ended: its start plus the time it really took (solver included)."""
    return started_at + dt.timedelta(seconds=time.monotonic() - started)


async def _publish(
    *, session: AsyncSession, run: RoundRun, day: DayData, result: ReplanResult, planner: Planner
) -> dict[str, Window]:
    """Store the routes and stamp the appointments; return the windows newly told."""
    plan, date = result.plan, day.date
    served: set[int] = set()
    narrowed: list[int] = []
    told: dict[str, Window] = {}
    for route in plan.routes:
        stops = []
        for order, stop in enumerate(route.stops, start=1):
            aid = appointment_of(stop.visit_id)
            appointment = day.appointments.get(aid) if aid is not None else None
            if appointment is None:
                continue
            served.add(appointment.id)
            appointment.route_order = order
            appointment.planned_arrival = instant(date, stop.arrival)
            if _narrow(appointment, stop.window, date, planner.window_minutes):
                narrowed.append(appointment.id)
                told[stop.visit_id] = stop.window
            stops.append(
                {
                    "order": order,
                    "appointment_id": appointment.id,
                    "planned_arrival": instant(date, stop.arrival).isoformat(),
                    "window_start": instant(date, stop.window.start).isoformat(),
                    "window_end": instant(date, stop.window.end).isoformat(),
                    "travel_minutes": stop.travel_minutes,
                }
            )
        session.add(
            RoundRoute(
                run_id=run.id,
                date=date,
                practitioner_id=int(route.practitioner_id),
                depart_at=instant(date, route.depart),
                back_at=instant(date, route.back),
                travel_minutes=route.travel_minutes,
                stops=stops,
            )
        )
    for aid, appointment in day.appointments.items():
        if aid not in served:
            appointment.route_order = None
            appointment.planned_arrival = None
    run.objective = dict(plan.objective)
    run.stopped_by = plan.stopped_by or None
    run.dropped = [
        {
            "appointment_id": appointment_of(d.visit_id),
            "urgency": str(d.urgency),
            "reason": str(d.reason),
            "text": d.text,
        }
        for d in plan.dropped
    ]
    run.renegotiate = [a for v in result.renegotiate if (a := appointment_of(v)) is not None]
    run.narrowed = narrowed
    run.summary = plan.explain(_names(day)) or "Aucune visite à domicile ce jour."
    return told


def _names(day: DayData) -> dict[str, str]:
    """The run summary names people: "Dr Martin : 1 visite — Odile Lambert 10:00–11:00"."""
    names = {str(pid): p.display_name for pid, p in day.practitioners.items()}
    for aid, appointment in day.appointments.items():
        patient = day.patients.get(appointment.patient_id)
        if patient is not None:
            names[visit_key(aid)] = patient.display_name
    return names


def _narrow(appointment: Appointment, window: Window, date: dt.date, width: int) -> bool:
    """Tell a narrower window only when it lies inside the promise (never outside it)."""
    lo, hi = minutes(appointment.start_at, date), minutes(appointment.end_at, date)
    if hi - lo <= width or not (lo <= window.start and window.end <= hi):
        return False
    if (window.start, window.end) == (lo, hi):
        return False
    appointment.start_at, appointment.end_at = (
        instant(date, window.start),
        instant(date, window.end),
    )
    return True


async def list_runs(*, session: AsyncSession, date: dt.date, limit: int = 50) -> list[RoundRun]:
    """The day's solver runs, latest first (status, trigger, objective, failures)."""
    rows = await session.scalars(
        select(RoundRun).where(RoundRun.date == date).order_by(RoundRun.id.desc()).limit(limit)
    )
    return list(rows.all())


async def optimise(
    *, session: AsyncSession, date: dt.date, planner: Planner, now: dt.datetime, actor: User | None
) -> RoundRun:
    """Optimise every GP's round of the day and publish it (coordinator, on demand)."""
    run = await run_day(
        session=session,
        date=date,
        planner=planner,
        now=now,
        trigger=RunTrigger.optimise,
        actor=actor,
    )
    assert run is not None
    return run


async def report_delay(
    *,
    session: AsyncSession,
    date: dt.date,
    practitioner_id: int,
    minutes_late: int,
    planner: Planner,
    now: dt.datetime,
    actor: User | None,
) -> tuple[RoundRun, list[RenegotiateOut]]:
    """Re-plan after a GP's delay; list the patients whose window must be renegotiated."""
    run = await run_day(
        session=session,
        date=date,
        planner=planner,
        now=now,
        trigger=RunTrigger.delay,
        actor=actor,
        add_delay=(practitioner_id, minutes_late),
    )
    assert run is not None
    return run, await renegotiation_list(session=session, run=run)


async def renegotiation_list(*, session: AsyncSession, run: RoundRun) -> list[RenegotiateOut]:
    """The run's broken promises with the patient to call and the new planned window."""
    if not run.renegotiate:
        return []
    windows = {
        s["appointment_id"]: s for r in await routes_of(session=session, run=run) for s in r.stops
    }
    appointments = (
        await session.scalars(select(Appointment).where(Appointment.id.in_(run.renegotiate)))
    ).all()
    patients = {
        p.id: p
        for p in (
            await session.scalars(
                select(Patient).where(Patient.id.in_({a.patient_id for a in appointments}))
            )
        ).all()
    }
    out = []
    for a in sorted(appointments, key=lambda a: a.id):
        stop = windows.get(a.id)
        patient = patients[a.patient_id]
        out.append(
            RenegotiateOut(
                appointment_id=a.id,
                patient_id=patient.id,
                patient_name=patient.display_name,
                phone=patient.phone,
                promised_start=a.start_at,
                promised_end=a.end_at,
                planned_arrival=a.planned_arrival,
                new_window_start=dt.datetime.fromisoformat(stop["window_start"]) if stop else None,
                new_window_end=dt.datetime.fromisoformat(stop["window_end"]) if stop else None,
            )
        )
    return out


async def day_rounds(
    *, session: AsyncSession, date: dt.date, practitioner_id: int | None = None
) -> DayRoundsOut:
    """The rounds in force for a day (one GP's with ``practitioner_id``), for the UIs.

    A visit cancelled since the run is left out at once; the worker's re-plan
    (app.rounds.replans) then re-times the round without it.
    """
    run = await current_run(session=session, date=date)
    if run is None:
        return DayRoundsOut(date=date, run=None, routes=[])
    routes = [
        r
        for r in await routes_of(session=session, run=run)
        if practitioner_id is None or r.practitioner_id == practitioner_id
    ]
    ids = {s["appointment_id"] for r in routes for s in r.stops}
    appointments = {
        a.id: a
        for a in (await session.scalars(select(Appointment).where(Appointment.id.in_(ids)))).all()
    }
    patients = {
        p.id: p
        for p in (
            await session.scalars(
                select(Patient).where(Patient.id.in_({a.patient_id for a in appointments.values()}))
            )
        ).all()
    }
    names = dict(
        (
            await session.execute(
                select(Practitioner.id, Practitioner.family_name).where(
                    Practitioner.id.in_({r.practitioner_id for r in routes})
                )
            )
        ).all()
    )
    out = []
    for r in routes:
        stops = []
        for s in r.stops:
            a = appointments.get(s["appointment_id"])
            if a is not None and a.status == AppointmentStatus.cancelled:
                continue
            p = patients.get(a.patient_id) if a else None
            stops.append(
                StopOut(
                    order=s["order"],
                    appointment_id=s["appointment_id"],
                    patient_id=p.id if p else None,
                    patient_name=p.display_name if p else None,
                    address=p.address if p else None,
                    commune=p.commune if p else None,
                    planned_arrival=s["planned_arrival"],
                    window_start=s["window_start"],
                    window_end=s["window_end"],
                    promised_start=a.start_at if a else None,
                    promised_end=a.end_at if a else None,
                    travel_minutes=s["travel_minutes"],
                )
            )
        out.append(
            RouteOut(
                practitioner_id=r.practitioner_id,
                practitioner_name=f"Dr {names.get(r.practitioner_id, '')}".strip(),
                depart_at=r.depart_at,
                back_at=r.back_at,
                travel_minutes=r.travel_minutes,
                stops=stops,
            )
        )
    return DayRoundsOut(date=date, run=RunOut.model_validate(run), routes=out)


async def optimise_before_session(
    *, session: AsyncSession, planner: Planner, now: dt.datetime
) -> list[RoundRun]:
    """Worker job: optimise today's (before the session) and tomorrow's rounds, idempotent."""
    local = now.astimezone(PARIS)
    dates = [local.date() + dt.timedelta(days=1)]
    if local.time() < planner.settings.optimise_before:
        dates.insert(0, local.date())
    runs = []
    for date in dates:
        run = await run_day(
            session=session,
            date=date,
            planner=planner,
            now=now,
            trigger=RunTrigger.scheduled,
            skip_if_unchanged=True,
        )
        if run is not None:
            runs.append(run)
    return runs


@dataclass(frozen=True)
class AbsorbableWindow:
    """A window where a GP's round can take one more home visit (exposed to the SAS)."""

    practitioner_id: int
    session_id: int
    start_at: dt.datetime
    end_at: dt.datetime


# A visit of unknown address is placed at the practice with this much extra time,
# standing for the detour to a patient anywhere in the territory.
ABSORB_MARGIN_MINUTES = 10


def _absorbable(
    day: DayData,
    practitioner_ids: set[int],
    earliest: int,
    service_minutes: int,
    params: Parameters,
    travel: TravelTimeProvider,
) -> list[tuple[int, Window]]:
    plan = plan_in_force(day, params, travel)
    found = []
    width = params.window_width
    for pid, (lo, hi) in sorted(day.spans.items()):
        if pid not in practitioner_ids:
            continue
        gp = day.instance.practitioner(str(pid))
        start = lo
        while start + width <= hi:
            window = Window(start, start + width)
            start += width
            if window.start < earliest:
                continue
            probe = Visit(
                id="probe",
                lat=gp.lat,
                lon=gp.lon,
                service_minutes=service_minutes + ABSORB_MARGIN_MINUTES,
                promised=window,
                assigned_practitioner_id=str(pid),
            )
            if propose(day.instance, probe, 1, plan=plan, params=params, travel=travel):
                found.append((pid, window))
    return found


async def absorbable_home_visit_windows(
    *,
    session: AsyncSession,
    practitioner_ids: list[int] | set[int],
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    settings: RoundsSettings | None = None,
    planner: Planner | None = None,
) -> list[AbsorbableWindow]:
    """Windows (of the arrival-window width) where each GP's round absorbs one more visit.

    Every promise already made stays kept; the GP's capacity is respected.
    Pass ``planner=app.state.rounds_planner`` when you have the app, else the
    ``settings`` (or the defaults: offline haversine) choose the travel times.
    """
    planner = planner or default_planner(settings)
    wanted = set(practitioner_ids)
    out: list[AbsorbableWindow] = []
    date, last = start.astimezone(PARIS).date(), end.astimezone(PARIS).date()
    today = now.astimezone(PARIS).date()
    params = planner.params(time_limit_s=planner.settings.rounds_replan_time_limit_s)
    while date <= last:
        if date >= today:
            day = await load_day(
                session=session, date=date, home_visit_minutes=planner.home_visit_minutes
            )
            earliest = (
                minutes(now, date) + planner.settings.proposal_lead_minutes if date == today else 0
            )
            if day.rounds_sessions.keys() & wanted:
                found = await planner.run(
                    _absorbable,
                    day,
                    wanted,
                    earliest,
                    planner.home_visit_minutes,
                    params,
                    planner.travel,
                    time_limit_s=params.time_limit_s,
                )
                for pid, window in found:
                    begins, ends = instant(date, window.start), instant(date, window.end)
                    if begins >= start and ends <= end:
                        out.append(AbsorbableWindow(pid, day.rounds_sessions[pid].id, begins, ends))
        date += dt.timedelta(days=1)
    return out
