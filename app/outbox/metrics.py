"""The outbox's figures for /metrics (registered on the app by the outbox's wiring)."""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI
from sqlalchemy import func, select

from app.core import metrics
from app.outbox.models import OutboxMessage, OutboxStatus


async def queue_snapshot(app: FastAPI) -> metrics.QueueSnapshot:
    """Depth, oldest wait and given-up messages by kind, read at each scrape of /metrics."""
    now = app.state.clock()
    due = (
        (OutboxMessage.status == OutboxStatus.pending) & (OutboxMessage.next_attempt_at <= now)
    ) | (OutboxMessage.status == OutboxStatus.sending)
    async with app.state.sessionmaker() as session:
        waiting = {
            topic: (count, oldest)
            for topic, count, oldest in (
                await session.execute(
                    select(
                        OutboxMessage.topic,
                        func.count(OutboxMessage.id),
                        func.min(OutboxMessage.next_attempt_at),
                    )
                    .where(due)
                    .group_by(OutboxMessage.topic)
                )
            ).all()
        }
        failed = dict(
            (
                await session.execute(
                    select(OutboxMessage.topic, func.count(OutboxMessage.id))
                    .where(OutboxMessage.status == OutboxStatus.failed)
                    .group_by(OutboxMessage.topic)
                )
            ).all()
        )
    kinds = set(getattr(app.state, "outbox_handlers", {})) | set(waiting) | set(failed)
    rows = []
    for kind in sorted(kinds):
        count, oldest = waiting.get(kind, (0, None))
        rows.append((kind, count, now - _aware(oldest) if oldest else None, failed.get(kind, 0)))
    return metrics.QueueSnapshot(rows)


def _aware(value: dt.datetime | str) -> dt.datetime:
    """Defensive: a driver may hand `min()` back as naive UTC text or datetime."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
