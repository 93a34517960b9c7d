"""Orientation toward a médecin traitant: the list, proposals, answers, territory GPs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from app.accounts.dependencies import STAFF, CurrentUser, require_roles
from app.accounts.models import Role
from app.core.clock import NowDep
from app.core.db import SessionDep
from app.orientation import batch as batch_service
from app.orientation import gps as gps_service
from app.orientation import listing
from app.orientation import service as orientation_service
from app.orientation.config import match_parameters
from app.orientation.models import CaseStatus
from app.orientation.schemas import (
    AnswerIn,
    BatchOut,
    CaseOut,
    CloseIn,
    ConsentIn,
    EventOut,
    GPRef,
    ProposeIn,
    TerritoryGPIn,
    TerritoryGPOut,
    TerritoryGPUpdate,
    UnmatchedOut,
)

router = APIRouter(prefix="/api/orientation", tags=["orientation"])

MANAGERS = (Role.coordinator, Role.admin)


def _settings(request: Request) -> Any:
    return request.app.state.orientation_settings


@router.get("/cases", response_model=list[CaseOut], dependencies=[require_roles(*STAFF)])
async def list_cases(
    session: SessionDep,
    user: CurrentUser,
    now: NowDep,
    status: CaseStatus | None = None,
    limit: int = Query(default=200, ge=1, le=1000),
    offset: int = Query(default=0, ge=0),
) -> Any:
    return await listing.list_cases(
        session=session, actor=user, now=now, status=status, limit=limit, offset=offset
    )


@router.get("/cases/{case_id}", dependencies=[require_roles(*STAFF)])
async def read_case(case_id: int, session: SessionDep, user: CurrentUser, now: NowDep) -> Any:
    case, events = await listing.read_case(session=session, case_id=case_id, actor=user, now=now)
    return {"case": case, "events": [EventOut.model_validate(e) for e in events]}


@router.post(
    "/patients/{patient_id}",
    response_model=CaseOut | None,
    dependencies=[require_roles(*STAFF)],
)
async def enter_patient(
    patient_id: int,
    session: SessionDep,
    user: CurrentUser,
    now: NowDep,
    consent: bool | None = None,
) -> Any:
    """Put a patient on the list by hand (null when they already have a médecin traitant)."""
    case = await orientation_service.enter_patient(
        session=session,
        patient_id=patient_id,
        actor=user,
        now=now,
        consent=consent,
        source="manual",
    )
    if case is None:
        return None
    return await listing.case_out(session=session, case=case, now=now)


@router.post(
    "/cases/{case_id}/consent", response_model=CaseOut, dependencies=[require_roles(*STAFF)]
)
async def consent(
    case_id: int, consent_in: ConsentIn, session: SessionDep, user: CurrentUser, now: NowDep
) -> Any:
    case = await orientation_service.set_consent(
        session=session, case_id=case_id, given=consent_in.given, actor=user, now=now
    )
    return await listing.case_out(session=session, case=case, now=now)


@router.post(
    "/cases/{case_id}/propose", response_model=CaseOut, dependencies=[require_roles(*STAFF)]
)
async def propose(
    case_id: int, propose_in: ProposeIn, session: SessionDep, user: CurrentUser, now: NowDep
) -> Any:
    case = await orientation_service.propose(
        session=session,
        case_id=case_id,
        practitioner_id=propose_in.practitioner_id,
        territory_gp_id=propose_in.territory_gp_id,
        actor=user,
        now=now,
    )
    return await listing.case_out(session=session, case=case, now=now)


@router.post(
    "/cases/{case_id}/answer", response_model=CaseOut, dependencies=[require_roles(*STAFF)]
)
async def answer(
    case_id: int,
    answer_in: AnswerIn,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    now: NowDep,
) -> Any:
    case = await orientation_service.record_answer(
        session=session,
        case_id=case_id,
        accepted=answer_in.accepted,
        note=answer_in.note,
        actor=user,
        now=now,
        channel=_settings(request).notify_channel,
    )
    return await listing.case_out(session=session, case=case, now=now)


@router.post(
    "/cases/{case_id}/declare", response_model=CaseOut, dependencies=[require_roles(*STAFF)]
)
async def declare(case_id: int, session: SessionDep, user: CurrentUser, now: NowDep) -> Any:
    case = await orientation_service.declare(session=session, case_id=case_id, actor=user, now=now)
    return await listing.case_out(session=session, case=case, now=now)


@router.post("/cases/{case_id}/close", response_model=CaseOut, dependencies=[require_roles(*STAFF)])
async def close(
    case_id: int, close_in: CloseIn, session: SessionDep, user: CurrentUser, now: NowDep
) -> Any:
    case = await orientation_service.close_case(
        session=session,
        case_id=case_id,
        reason=close_in.reason,
        note=close_in.note,
        actor=user,
        now=now,
    )
    return await listing.case_out(session=session, case=case, now=now)


@router.post(
    "/batches",
    response_model=BatchOut,
    status_code=201,
    dependencies=[require_roles(Role.secretary, *MANAGERS)],
)
async def propose_batch(
    request: Request, session: SessionDep, user: CurrentUser, now: NowDep
) -> Any:
    """« Proposer des médecins traitants » : one proposal for every waiting patient."""
    batch, unmatched = await batch_service.propose_batch(
        session=session, actor=user, now=now, params=match_parameters(_settings(request))
    )
    return BatchOut(
        batch_id=batch.id,
        waiting=batch.waiting,
        proposed=batch.proposed,
        unmatched=batch.unmatched,
        capacity_total=batch.capacity_total,
        capacity_used=batch.proposed / batch.capacity_total if batch.capacity_total else 0.0,
        solve_ms=batch.solve_ms,
        unmatched_by_reason=batch.summary,
        unmatched_cases=[UnmatchedOut(case_id=c, reason=r, code=k) for c, r, k in unmatched],
    )


@router.post("/sweep", dependencies=[require_roles(*MANAGERS)])
async def sweep(session: SessionDep, now: NowDep) -> dict[str, int]:
    return await orientation_service.sweep(session=session, now=now)


@router.get("/gps", response_model=list[GPRef], dependencies=[require_roles(*STAFF)])
async def list_gps(session: SessionDep, now: NowDep) -> Any:
    """Every GP who can be proposed, with this month's capacity and what is left."""
    return [
        GPRef(
            kind=g.kind,
            id=g.id,
            name=g.name,
            commune=g.commune,
            capacity=g.capacity,
            remaining=g.remaining,
            languages=sorted(g.languages),
        )
        for g in await gps_service.available_gps(session=session, now=now)
    ]


@router.get(
    "/territory-gps", response_model=list[TerritoryGPOut], dependencies=[require_roles(*STAFF)]
)
async def list_territory_gps(session: SessionDep) -> Any:
    return await gps_service.list_territory_gps(session=session)


@router.post(
    "/territory-gps",
    response_model=TerritoryGPOut,
    status_code=201,
    dependencies=[require_roles(*MANAGERS)],
)
async def create_territory_gp(gp_in: TerritoryGPIn, session: SessionDep, user: CurrentUser) -> Any:
    return await gps_service.create_territory_gp(session=session, gp_in=gp_in, actor=user)


@router.patch(
    "/territory-gps/{gp_id}",
    response_model=TerritoryGPOut,
    dependencies=[require_roles(*MANAGERS)],
)
async def update_territory_gp(
    gp_id: int, gp_update: TerritoryGPUpdate, session: SessionDep, user: CurrentUser
) -> Any:
    return await gps_service.update_territory_gp(
        session=session, gp_id=gp_id, gp_update=gp_update, actor=user
    )
