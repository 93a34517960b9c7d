"""Enqueue, inspect and retry outbox messages; sending is the worker's job."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import utcnow
from app.core.errors import Conflict, NotFound
from app.outbox.models import OutboxMessage, OutboxStatus


async def enqueue(
    *,
    session: AsyncSession,
    topic: str,
    key: str,
    payload: dict[str, Any],
    ordering_key: str | None = None,
    available_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> OutboxMessage:
    """Queue a message in the caller's transaction; the same key twice is the same message."""
    existing = await session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
    if existing is not None:
        return existing
    message = OutboxMessage(
        topic=topic,
        key=key,
        ordering_key=ordering_key,
        payload=payload,
        status=OutboxStatus.pending,
        next_attempt_at=available_at or now or utcnow(),
    )
    session.add(message)
    await session.flush()
    return message


async def get(*, session: AsyncSession, message_id: int) -> OutboxMessage:
    message = await session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(f"Message n°{message_id} introuvable dans la file d'envoi.")
    return message


async def list_(
    *,
    session: AsyncSession,
    topic: str | None = None,
    status: OutboxStatus | None = None,
    limit: int = 200,
) -> Sequence[OutboxMessage]:
    stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if topic:
        stmt = stmt.where(OutboxMessage.topic == topic)
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    return (await session.scalars(stmt)).all()


async def list_problems(*, session: AsyncSession, limit: int = 200) -> Sequence[OutboxMessage]:
    """Failed messages and pending ones that already failed once: what needs an eye."""
    stmt = (
        select(OutboxMessage)
        .where(
            (OutboxMessage.status == OutboxStatus.failed)
            | ((OutboxMessage.status == OutboxStatus.pending) & (OutboxMessage.attempts > 0))
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return (await session.scalars(stmt)).all()


async def retry_now(*, session: AsyncSession, message_id: int, now: dt.datetime) -> OutboxMessage:
    """The coordinator's "réessayer maintenant": back in the queue, due at once."""
    message = await get(session=session, message_id=message_id)
    if message.status == OutboxStatus.sent:
        raise Conflict("Ce message est déjà parti.")
    if (
        message.status == OutboxStatus.sending
        and message.locked_until
        and message.locked_until > now
    ):
        raise Conflict("Ce message est en cours d'envoi.")
    message.status = OutboxStatus.pending
    message.next_attempt_at = now
    message.locked_until = None
    await session.flush()
    return message
