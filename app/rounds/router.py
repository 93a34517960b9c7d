"""HTTP routes of the rounds domain: proposals and their booking, published rounds.

- ``GET  /api/requests/{id}/proposals?k=5``   staff: the k best options
- ``POST /api/requests/{id}/proposals/book``  staff: book one (body: an option's ``booking``)
- ``POST /api/rounds/{date}/optimise``        coordinator: optimise and publish the day
- ``GET  /api/rounds/{date}``                 staff, or a GP for their own round
- ``POST /api/rounds/{date}/delay``           coordinator or the GP: re-plan after a delay
- ``GET  /api/rounds/{date}/runs``            coordinator: the day's solver runs
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Query

from app.accounts.dependencies import STAFF, CurrentUser, require_roles
from app.accounts.models import Role
from app.appointments.dependencies import BookingContextDep
from app.audit import service as audit_service
from app.core.clock import NowDep
from app.core.db import SessionDep
from app.core.errors import Forbidden
from app.rounds import proposals
from app.rounds import service as rounds_service
from app.rounds.dependencies import PlannerDep
from app.rounds.schemas import (
    DayRoundsOut,
    DelayIn,
    DelayOut,
    ProposalBookingOut,
    ProposalChoice,
    ProposalsOut,
    RunOut,
)

router = APIRouter(tags=["rounds"])
COORDINATION = (Role.coordinator, Role.admin)


@router.get(
    "/api/requests/{request_id}/proposals",
    response_model=ProposalsOut,
    dependencies=[require_roles(*STAFF)],
)
async def list_proposals(
    request_id: int,
    session: SessionDep,
    user: CurrentUser,
    planner: PlannerDep,
    now: NowDep,
    k: int = Query(default=5, ge=1, le=20),
) -> Any:
    return await proposals.list_proposals(
        session=session, request_id=request_id, k=k, actor=user, planner=planner, now=now
    )


@router.post(
    "/api/requests/{request_id}/proposals/book",
    response_model=ProposalBookingOut,
    status_code=201,
    dependencies=[require_roles(*STAFF)],
)
async def book_proposal(
    request_id: int,
    choice: ProposalChoice,
    session: SessionDep,
    user: CurrentUser,
    planner: PlannerDep,
    ctx: BookingContextDep,
) -> Any:
    return await proposals.book_proposal(
        session=session, request_id=request_id, choice=choice, actor=user, planner=planner, ctx=ctx
    )


@router.post(
    "/api/rounds/{date}/optimise",
    response_model=RunOut,
    dependencies=[require_roles(*COORDINATION)],
)
async def optimise(
    date: dt.date, session: SessionDep, user: CurrentUser, planner: PlannerDep, now: NowDep
) -> Any:
    return await rounds_service.optimise(
        session=session, date=date, planner=planner, now=now, actor=user
    )


@router.get(
    "/api/rounds/{date}",
    response_model=DayRoundsOut,
    dependencies=[require_roles(*STAFF, Role.practitioner)],
)
async def day_rounds(date: dt.date, session: SessionDep, user: CurrentUser) -> Any:
    own = user.practitioner_id if user.role == Role.practitioner else None
    if user.role == Role.practitioner and own is None:
        raise Forbidden("Aucun médecin n'est associé à ce compte.")
    rounds = await rounds_service.day_rounds(session=session, date=date, practitioner_id=own)
    for patient_id in sorted(
        {s.patient_id for r in rounds.routes for s in r.stops if s.patient_id}
    ):
        await audit_service.record(
            session=session,
            actor=user,
            action="rounds",
            entity_type="patient",
            entity_id=patient_id,
            patient_id=patient_id,
            detail={"date": date.isoformat()},
        )
    return rounds


@router.post(
    "/api/rounds/{date}/delay",
    response_model=DelayOut,
    dependencies=[require_roles(*COORDINATION, Role.practitioner)],
)
async def report_delay(
    date: dt.date,
    delay_in: DelayIn,
    session: SessionDep,
    user: CurrentUser,
    planner: PlannerDep,
    now: NowDep,
) -> Any:
    if user.role == Role.practitioner and user.practitioner_id != delay_in.practitioner_id:
        raise Forbidden("Un médecin ne peut signaler que son propre retard.")
    run, renegotiate = await rounds_service.report_delay(
        session=session,
        date=date,
        practitioner_id=delay_in.practitioner_id,
        minutes_late=delay_in.minutes,
        planner=planner,
        now=now,
        actor=user,
    )
    for item in renegotiate:
        await audit_service.record(
            session=session,
            actor=user,
            action="renegotiate",
            entity_type="appointment",
            entity_id=item.appointment_id,
            patient_id=item.patient_id,
            detail={"delay_minutes": delay_in.minutes},
        )
    return DelayOut(run=RunOut.model_validate(run), renegotiate=renegotiate)


@router.get(
    "/api/rounds/{date}/runs",
    response_model=list[RunOut],
    dependencies=[require_roles(*COORDINATION)],
)
async def list_runs(date: dt.date, session: SessionDep) -> Any:
    return await rounds_service.list_runs(session=session, date=date)
