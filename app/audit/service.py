"""Write and read the access trail; every read or change of patient data goes through here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.audit.models import AuditEvent


async def record(
    *,
    session: AsyncSession,
    actor: User | None,
    action: str,
    entity_type: str,
    entity_id: int | None = None,
    patient_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        user_id=actor.id if actor else None,
        username=actor.username if actor else "system",
        role=str(actor.role) if actor else "system",
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        patient_id=patient_id,
        detail=detail or {},
    )
    session.add(event)
    await session.flush()
    return event


async def record_reads(
    *,
    session: AsyncSession,
    actor: User,
    action: str,
    patient_ids: Sequence[int],
    detail: dict[str, Any] | None = None,
) -> None:
    """One trace per patient shown together (an agenda page): the same events, one flush."""
    session.add_all(
        AuditEvent(
            user_id=actor.id,
            username=actor.username,
            role=str(actor.role),
            action=action,
            entity_type="patient",
            entity_id=patient_id,
            patient_id=patient_id,
            detail=detail or {},
        )
        for patient_id in patient_ids
    )
    await session.flush()


async def list_for_patient(*, session: AsyncSession, patient_id: int) -> Sequence[AuditEvent]:
    result = await session.scalars(
        select(AuditEvent).where(AuditEvent.patient_id == patient_id).order_by(AuditEvent.id)
    )
    return result.all()
