"""The pages' view of domains built beside them: rounds, messaging, orientation.

Each is imported when called; when a domain has not landed (or lacks a function)
the page shows a French "indisponible" note instead of failing.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.appointments import service as appointments_service
from app.appointments.dependencies import booking_context
from app.appointments.models import ACTIVE_STATUSES, Appointment
from app.appointments.schemas import BookingIn
from app.core.timeutil import PARIS, at
from app.practitioners import service as practitioners_service
from app.practitioners.models import SessionKind
from app.requests.models import CareRequest

logger = logging.getLogger(__name__)

UNAVAILABLE = "indisponible"


def _function(module: str, *names: str) -> Callable[..., Any] | None:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    for name in names:
        fn = getattr(mod, name, None)
        if callable(fn):
            return fn
    return None


async def _call(fn: Callable[..., Any], **available: Any) -> Any:
    """Call a service with the keyword arguments it declares among those we can give."""
    params = inspect.signature(fn).parameters
    accepts_any = any(p.kind == p.VAR_KEYWORD for p in params.values())
    kwargs = {k: v for k, v in available.items() if accepts_any or k in params}
    result = fn(**kwargs)
    return await result if inspect.isawaitable(result) else result


def get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


# --- proposals --------------------------------------------------------------------------


@dataclass
class Proposal:
    practitioner_id: int
    practitioner_name: str
    kind: str
    start_at: dt.datetime
    end_at: dt.datetime
    planned_arrival: dt.datetime | None = None
    added_travel_minutes: float | None = None
    deadline_slack_minutes: int | None = None
    label: str = ""
    why: str = ""


@dataclass
class Proposals:
    options: list[Proposal] = field(default_factory=list)
    source: str = "scheduler"  # scheduler | free_slots
    note: str | None = None


async def proposals(
    *, request: Request, session: AsyncSession, care_request: CareRequest, actor: User, k: int = 5
) -> Proposals:
    """The scheduler's best options for a request; plain free slots when it is not there."""
    fn = _function("app.rounds.proposals", "list_proposals") or _function(
        "app.rounds.service", "list_proposals"
    )
    now = request.app.state.clock()
    if fn is not None and getattr(request.app.state, "rounds_planner", None) is not None:
        try:
            out = await _call(
                fn,
                session=session,
                request_id=care_request.id,
                care_request=care_request,
                actor=actor,
                user=actor,
                k=k,
                now=now,
                planner=getattr(request.app.state, "rounds_planner", None),
                settings=getattr(request.app.state, "rounds_settings", None),
                app=request.app,
            )
            return Proposals(
                options=[_proposal(o) for o in get(out, "options", out) or []][:k],
                note=get(out, "message"),
            )
        except Exception as exc:  # a planner failure must not stop the secretary
            from app.core.errors import DomainError

            if isinstance(exc, DomainError):
                note = exc.message
            else:
                logger.exception("scheduler proposals failed")
                note = "Propositions de l'ordonnanceur indisponibles"
            found = await _free_slot_proposals(
                session=session, care_request=care_request, now=now, k=k
            )
            found.note = f"{note} : créneaux libres les plus proches affichés."
            return found
    found = await _free_slot_proposals(session=session, care_request=care_request, now=now, k=k)
    found.note = (
        "Ordonnanceur indisponible : créneaux libres les plus proches affichés "
        "(trajet ajouté non calculé)."
    )
    return found


def _proposal(option: Any) -> Proposal:
    return Proposal(
        practitioner_id=get(option, "practitioner_id"),
        practitioner_name=get(option, "practitioner_name", ""),
        kind=str(get(option, "kind")),
        start_at=get(option, "start_at"),
        end_at=get(option, "end_at"),
        planned_arrival=get(option, "planned_arrival"),
        added_travel_minutes=get(option, "added_travel_minutes"),
        deadline_slack_minutes=get(option, "deadline_slack_minutes"),
        label=get(option, "label", "") or "",
        why=get(option, "why", "") or "",
    )


async def _free_slot_proposals(
    *, session: AsyncSession, care_request: CareRequest, now: dt.datetime, k: int
) -> Proposals:
    kind = care_request.modality or SessionKind.teleconsultation
    lead = now + dt.timedelta(minutes=30)
    end = care_request.deadline or now + dt.timedelta(days=2)
    names = {p.id: p.display_name for p in await practitioners_service.list_(session=session)}
    found: list[Proposal] = []
    seen: set[int] = set()
    if kind == SessionKind.home_visit:
        sessions = await practitioners_service.list_sessions(
            session=session, practitioner_ids=None, start=now, end=end, kind=kind
        )
        for duty in sessions:
            if duty.practitioner_id in seen or duty.practitioner_id not in names:
                continue
            held = await appointments_service.count_in_session(session=session, session_id=duty.id)
            if held >= duty.capacity:
                continue
            start = duty.start_at
            while start + dt.timedelta(hours=1) <= duty.end_at and start < lead:
                start += dt.timedelta(hours=1)
            if start + dt.timedelta(hours=1) > duty.end_at:
                continue
            found.append(_slot(names, duty.practitioner_id, kind, start, start + _HOUR, end))
            seen.add(duty.practitioner_id)
    else:
        slots = await appointments_service.free_slots(
            session=session, start=now, end=end, kind=kind, now=lead
        )
        for duty, start, stop in slots:
            if duty.practitioner_id in seen or duty.practitioner_id not in names:
                continue
            found.append(_slot(names, duty.practitioner_id, kind, start, stop, end))
            seen.add(duty.practitioner_id)
    found.sort(key=lambda p: (p.start_at, p.practitioner_name))
    return Proposals(options=found[:k], source="free_slots")


_HOUR = dt.timedelta(hours=1)


def _slot(
    names: dict[int, str],
    practitioner_id: int,
    kind: SessionKind,
    start: dt.datetime,
    stop: dt.datetime,
    deadline: dt.datetime,
) -> Proposal:
    return Proposal(
        practitioner_id=practitioner_id,
        practitioner_name=names[practitioner_id],
        kind=str(kind),
        start_at=start,
        end_at=stop,
        deadline_slack_minutes=int((deadline - stop).total_seconds() // 60),
        why="premier créneau libre",
    )


async def book(
    *,
    request: Request,
    session: AsyncSession,
    care_request: CareRequest,
    actor: User,
    practitioner_id: int,
    kind: str,
    start_at: dt.datetime,
    end_at: dt.datetime,
    deadline_override_reason: str | None = None,
) -> Appointment:
    """Book an option: through the scheduler when it offers it (it re-plans rounds)."""
    ctx = booking_context(request)
    fn = _function("app.rounds.proposals", "book_proposal") or _function(
        "app.rounds.service", "book_proposal"
    )
    if fn is not None and getattr(request.app.state, "rounds_planner", None) is not None:
        from app.rounds.schemas import ProposalChoice

        choice = ProposalChoice(
            practitioner_id=practitioner_id,
            kind=SessionKind(kind),
            start_at=start_at,
            end_at=end_at,
            deadline_override_reason=deadline_override_reason,
        )
        out = await _call(
            fn,
            session=session,
            request_id=care_request.id,
            choice=choice,
            actor=actor,
            ctx=ctx,
            planner=request.app.state.rounds_planner,
        )
        appointment = get(out, "appointment", out)
        found = await session.get(Appointment, get(appointment, "id"))
        assert found is not None
        return found
    return await appointments_service.book(
        session=session,
        booking_in=BookingIn(
            request_id=care_request.id,
            practitioner_id=practitioner_id,
            start_at=start_at,
            end_at=end_at,
            kind=SessionKind(kind),
            deadline_override_reason=deadline_override_reason,
        ),
        actor=actor,
        ctx=ctx,
    )


# --- rounds -----------------------------------------------------------------------------


async def day_rounds(*, session: AsyncSession, date: dt.date) -> tuple[dict[int, Any], str | None]:
    """Published rounds of a day by practitioner id, or a note when unavailable."""
    fn = _function("app.rounds.service", "day_rounds")
    if fn is None:
        return {}, f"Tournées optimisées {UNAVAILABLE}"
    try:
        out = await _call(fn, session=session, date=date)
    except Exception:
        logger.exception("day rounds failed")
        return {}, f"Tournées optimisées {UNAVAILABLE}"
    return {get(r, "practitioner_id"): r for r in get(out, "routes", []) or []}, None


# --- messaging --------------------------------------------------------------------------


async def calls_today(
    *, session: AsyncSession, day: dt.date, actor: User | None = None
) -> tuple[list[Any], str | None]:
    fn = _function("app.messaging.service", "list_calls")
    if fn is None:
        return [], f"Journal des appels {UNAVAILABLE}"
    try:
        return list(await _call(fn, session=session, day=day, date=day, actor=actor)), None
    except Exception:
        logger.exception("call list failed")
        return [], f"Journal des appels {UNAVAILABLE}"


async def inbound_today(
    *, session: AsyncSession, day: dt.date, actor: User | None = None
) -> list[Any]:
    fn = _function("app.messaging.service", "list_inbound")
    if fn is None:
        return []
    try:
        return list(await _call(fn, session=session, day=day, date=day, actor=actor))
    except Exception:
        logger.exception("inbound SMS list failed")
        return []


async def sms_failures(
    *, session: AsyncSession, day: dt.date, actor: User | None = None
) -> list[Any]:
    fn = _function("app.messaging.service", "list_failures")
    if fn is None:
        return []
    try:
        return list(await _call(fn, session=session, day=day, date=day, actor=actor))
    except Exception:
        logger.exception("SMS failures list failed")
        return []


async def sms_for_patient(
    *, session: AsyncSession, patient_id: int, actor: User
) -> tuple[list[Any], str | None]:
    fn = _function("app.messaging.service", "sms_for_patient")
    if fn is None:
        return [], f"Historique des SMS {UNAVAILABLE}"
    try:
        out = await _call(fn, session=session, patient_id=patient_id, actor=actor)
        return list(out), None
    except Exception:
        logger.exception("SMS history failed")
        return [], f"Historique des SMS {UNAVAILABLE}"


# --- orientation ------------------------------------------------------------------------


async def orientation_status(
    *, session: AsyncSession, patient_id: int, actor: User, now: dt.datetime
) -> tuple[Any | None, str | None]:
    """The patient's orientation case (toward a médecin traitant), if any."""
    fn = _function("app.orientation.service", "case_for_patient", "get_case_for_patient")
    try:
        if fn is not None:
            return await _call(
                fn, session=session, patient_id=patient_id, actor=actor, now=now
            ), None
        case_out = _function("app.orientation.listing", "case_out") or _function(
            "app.orientation.service", "case_out"
        )
        if case_out is None:
            return None, f"Suivi de l'orientation {UNAVAILABLE}"
        from app.orientation.models import OrientationCase

        case = await session.scalar(
            select(OrientationCase)
            .where(OrientationCase.patient_id == patient_id)
            .order_by(OrientationCase.id.desc())
        )
        if case is None:
            return None, None
        return await _call(case_out, session=session, case=case, now=now), None
    except Exception:
        logger.exception("orientation status failed")
        return None, f"Suivi de l'orientation {UNAVAILABLE}"


# --- reads the core services do not offer yet -------------------------------------------


async def appointments_for_patient(*, session: AsyncSession, patient_id: int) -> list[Appointment]:
    fn = _function("app.appointments.service", "list_for_patient")
    if fn is not None:
        return list(await _call(fn, session=session, patient_id=patient_id))
    stmt = (
        select(Appointment)
        .where(Appointment.patient_id == patient_id)
        .order_by(Appointment.start_at.desc())
    )
    return list((await session.scalars(stmt)).all())


async def load_by_session(*, session: AsyncSession, session_ids: list[int]) -> dict[int, int]:
    """Active appointments held in each session."""
    if not session_ids:
        return {}
    rows = await session.scalars(
        select(Appointment.session_id).where(
            Appointment.session_id.in_(session_ids), Appointment.status.in_(ACTIVE_STATUSES)
        )
    )
    counts: dict[int, int] = {}
    for session_id in rows:
        counts[session_id] = counts.get(session_id, 0) + 1
    return counts


def local_instant(date: dt.date, time: dt.time) -> dt.datetime:
    return at(date, time, PARIS)


async def roster_templates(*, session: AsyncSession) -> dict[int, list[Any]]:
    """Active weekly templates by practitioner."""
    from app.practitioners.models import SessionTemplate

    fn = _function("app.practitioners.service", "list_templates")
    rows = (
        await _call(fn, session=session)
        if fn is not None
        else (
            await session.scalars(
                select(SessionTemplate)
                .where(SessionTemplate.active.is_(True))
                .order_by(SessionTemplate.weekday, SessionTemplate.start_time)
            )
        ).all()
    )
    out: dict[int, list[Any]] = {}
    for row in rows:
        out.setdefault(row.practitioner_id, []).append(row)
    return out


async def roster_absences(*, session: AsyncSession, since: dt.datetime) -> dict[int, list[Any]]:
    """Absences still running or to come, by practitioner."""
    from app.practitioners.models import Absence

    fn = _function("app.practitioners.service", "list_absences")
    rows = (
        await _call(fn, session=session, since=since)
        if fn is not None
        else (
            await session.scalars(
                select(Absence).where(Absence.end_at >= since).order_by(Absence.start_at)
            )
        ).all()
    )
    out: dict[int, list[Any]] = {}
    for row in rows:
        out.setdefault(row.practitioner_id, []).append(row)
    return out
