"""Tell a GP that a patient chose them: one outbox message, SMS or e-mail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.orientation.models import OrientationCase, TerritoryGP
from app.patients.models import Patient
from app.practitioners.models import Practitioner

TOPIC = "orientation_notification"


async def _contacts(
    session: AsyncSession, gp: Practitioner | TerritoryGP
) -> tuple[str | None, str | None]:
    if isinstance(gp, TerritoryGP):
        return gp.phone, gp.email
    email = await session.scalar(
        select(User.email).where(User.practitioner_id == gp.id, User.email.is_not(None)).limit(1)
    )
    return gp.phone, email


def build_payload(
    *,
    case: OrientationCase,
    patient: Patient,
    gp: Practitioner | TerritoryGP,
    channel: str,
    phone: str | None,
    email: str | None,
) -> dict[str, Any]:
    """The message, ready for the SMS or e-mail sender (the patient consented to it)."""
    if channel == "sms" and not phone and email:
        channel = "email"
    elif channel == "email" and not email and phone:
        channel = "sms"
    who = f"{patient.given_name} {patient.family_name.upper()}"
    reference = f"ORI-{case.id}"
    body = (
        f"Premier Recours (CPTS) : {who} ({patient.commune or 'territoire'}) vous choisit "
        f"comme médecin traitant et contactera votre cabinet. Réf. {reference}"
    )
    return {
        "channel": channel,
        "to": phone if channel == "sms" else email,
        "subject": f"Nouveau patient orienté vers vous ({reference})",
        "body": body,
        "case_id": case.id,
        "reference": reference,
        "gp": {
            "kind": "territory" if isinstance(gp, TerritoryGP) else "platform",
            "id": gp.id,
            "name": gp.display_name,
        },
        "patient": {"name": who, "phone": patient.phone, "commune": patient.commune},
    }


async def notify_gp(
    *,
    session: AsyncSession,
    case: OrientationCase,
    patient: Patient,
    gp: Practitioner | TerritoryGP,
    event_id: int,
    channel: str = "sms",
) -> None:
    """Queue the notification in the caller's transaction (the outbox sends it, with retries)."""
    from app.outbox import service as outbox_service

    phone, email = await _contacts(session, gp)
    payload = build_payload(
        case=case, patient=patient, gp=gp, channel=channel, phone=phone, email=email
    )
    await outbox_service.enqueue(
        session=session,
        topic=TOPIC,
        key=f"orientation:{case.id}:accepted:{event_id}",
        payload=payload,
        ordering_key=f"orientation:{case.id}",
    )
