"""The coordinator watches what failed to leave and can push it again."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from app.accounts.dependencies import require_roles
from app.accounts.models import Role
from app.core.clock import NowDep
from app.core.db import SessionDep
from app.core.timeutil import ParisDatetime
from app.outbox import service as outbox_service
from app.outbox.models import OutboxStatus

router = APIRouter(prefix="/api/outbox", tags=["outbox"])
COORDINATION = (Role.coordinator, Role.admin)


class OutboxMessageOut(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    topic: str
    key: str
    ordering_key: str | None
    status: OutboxStatus
    attempts: int
    next_attempt_at: ParisDatetime
    last_error: str | None
    sent_at: ParisDatetime | None
    created_at: ParisDatetime


@router.get("", response_model=list[OutboxMessageOut], dependencies=[require_roles(*COORDINATION)])
async def list_messages(
    session: SessionDep, topic: str | None = None, status: OutboxStatus | None = None
) -> Any:
    return await outbox_service.list_(session=session, topic=topic, status=status)


@router.get(
    "/problems", response_model=list[OutboxMessageOut], dependencies=[require_roles(*COORDINATION)]
)
async def problems(session: SessionDep) -> Any:
    return await outbox_service.list_problems(session=session)


@router.post(
    "/{message_id}/retry",
    response_model=OutboxMessageOut,
    dependencies=[require_roles(*COORDINATION)],
)
async def retry(message_id: int, session: SessionDep, now: NowDep) -> Any:
    return await outbox_service.retry_now(session=session, message_id=message_id, now=now)
