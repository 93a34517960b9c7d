"""Practitioners and their sessions (their agenda and absences: app/agenda/router.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Query, Request

from app.accounts.dependencies import CurrentUser, require_roles
from app.accounts.models import Role
from app.core.clock import NowDep
from app.core.db import SessionDep
from app.core.timeutil import PARIS, day_bounds
from app.practitioners import service as practitioners_service
from app.practitioners.access import ROSTER, own_or_roster
from app.practitioners.schemas import (
    PractitionerIn,
    PractitionerOut,
    SessionIn,
    SessionOut,
    SessionTemplateIn,
    SessionTemplateOut,
)

router = APIRouter(prefix="/api/practitioners", tags=["practitioners"])

OWN = require_roles(*ROSTER, Role.practitioner, own="médecin : ses propres vacations")


def _out(practitioner: Any) -> PractitionerOut:
    out = PractitionerOut.model_validate(practitioner)
    out.warnings = practitioners_service.warnings_for(practitioner)
    return out


@router.get("", response_model=list[PractitionerOut])
async def list_practitioners(session: SessionDep, user: CurrentUser) -> Any:
    return [_out(p) for p in await practitioners_service.list_(session=session)]


@router.post(
    "", response_model=PractitionerOut, status_code=201, dependencies=[require_roles(*ROSTER)]
)
async def create_practitioner(practitioner_in: PractitionerIn, session: SessionDep) -> Any:
    return _out(
        await practitioners_service.create(session=session, practitioner_in=practitioner_in)
    )


@router.get("/{practitioner_id}", response_model=PractitionerOut)
async def get_practitioner(practitioner_id: int, session: SessionDep, user: CurrentUser) -> Any:
    return _out(await practitioners_service.get(session=session, practitioner_id=practitioner_id))


@router.get("/{practitioner_id}/sessions", response_model=list[SessionOut])
async def list_sessions(
    practitioner_id: int,
    session: SessionDep,
    user: CurrentUser,
    now: NowDep,
    date_from: dt.date | None = Query(default=None, alias="from"),
    date_to: dt.date | None = Query(default=None, alias="to"),
) -> Any:
    await practitioners_service.get(session=session, practitioner_id=practitioner_id)
    first = date_from or now.astimezone(PARIS).date()
    last = date_to or first + dt.timedelta(days=7)
    return await practitioners_service.list_sessions(
        session=session,
        practitioner_ids=[practitioner_id],
        start=day_bounds(first)[0],
        end=day_bounds(last)[1],
    )


@router.post(
    "/{practitioner_id}/sessions", response_model=SessionOut, status_code=201, dependencies=[OWN]
)
async def add_session(
    practitioner_id: int, session_in: SessionIn, session: SessionDep, user: CurrentUser
) -> Any:
    own_or_roster(user, practitioner_id)
    practitioner = await practitioners_service.get(session=session, practitioner_id=practitioner_id)
    return await practitioners_service.add_session(
        session=session, practitioner=practitioner, session_in=session_in
    )


@router.post(
    "/{practitioner_id}/templates",
    response_model=SessionTemplateOut,
    status_code=201,
    dependencies=[OWN],
)
async def add_template(
    practitioner_id: int,
    template_in: SessionTemplateIn,
    session: SessionDep,
    user: CurrentUser,
    now: NowDep,
    request: Request,
) -> Any:
    own_or_roster(user, practitioner_id)
    practitioner = await practitioners_service.get(session=session, practitioner_id=practitioner_id)
    return await practitioners_service.add_template(
        session=session,
        practitioner=practitioner,
        template_in=template_in,
        today=now.astimezone(PARIS).date(),
        horizon_days=request.app.state.settings.session_horizon_days,
    )
