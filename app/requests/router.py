"""Requests: intake (with the triage outcome), reading, status changes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from app.accounts.dependencies import STAFF, CurrentUser, require_roles
from app.core.clock import NowDep
from app.core.db import SessionDep
from app.requests import service as requests_service
from app.requests.schemas import (
    OfferOut,
    RedFlagOut,
    RequestCreated,
    RequestIn,
    RequestOut,
    RequestStatusIn,
    TriageOut,
)
from app.requests.triage import RED_FLAGS

router = APIRouter(prefix="/api/requests", tags=["requests"])


@router.get("/red-flags", response_model=list[RedFlagOut])
async def red_flags(user: CurrentUser) -> Any:
    return [RedFlagOut(code=code, label=label) for code, label in RED_FLAGS.items()]


@router.post(
    "",
    response_model=RequestCreated,
    status_code=201,
    dependencies=[require_roles(*STAFF)],
)
async def create_request(
    request: Request, request_in: RequestIn, session: SessionDep, user: CurrentUser, now: NowDep
) -> Any:
    care_request, outcome = await requests_service.create(
        session=session,
        request_in=request_in,
        actor=user,
        now=now,
        calendar=request.app.state.calendar,
    )
    return RequestCreated(
        request=RequestOut.model_validate(care_request),
        triage=TriageOut(
            redirected_15=outcome.redirected,
            message=outcome.message,
            red_flags=[RedFlagOut(code=c, label=RED_FLAGS[c]) for c in outcome.red_flags],
            urgency=outcome.urgency,
            deadline=outcome.deadline,
            modality_suggested=outcome.modality_suggested,
            destination=outcome.destination,
            urgency_decided_by=outcome.urgency_decided_by,
            deadline_note=outcome.deadline_note,
            offers=[
                OfferOut(
                    kind=o.kind,
                    modality=o.modality,
                    by=o.by,
                    within_deadline=o.within_deadline,
                    note=o.note,
                    destination=o.destination,
                )
                for o in outcome.offers
            ],
            prompts=list(outcome.prompts),
        ),
    )


@router.get("", response_model=list[RequestOut], dependencies=[require_roles(*STAFF)])
async def open_requests(session: SessionDep) -> Any:
    return await requests_service.list_open(session=session)


@router.get("/{request_id}", response_model=RequestOut, dependencies=[require_roles(*STAFF)])
async def get_request(request_id: int, session: SessionDep, user: CurrentUser) -> Any:
    return await requests_service.get(session=session, request_id=request_id, actor=user)


@router.post(
    "/{request_id}/status", response_model=RequestOut, dependencies=[require_roles(*STAFF)]
)
async def change_status(
    request_id: int, status_in: RequestStatusIn, session: SessionDep, user: CurrentUser, now: NowDep
) -> Any:
    return await requests_service.change_status(
        session=session,
        request_id=request_id,
        status=status_in.status,
        note=status_in.note,
        destination=status_in.destination,
        actor=user,
        now=now,
    )
