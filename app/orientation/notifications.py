"""Tell a GP that a patient chose them: one outbox message, SMS or e-mail."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from email.message import EmailMessage
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.orientation.config import OrientationSettings
from app.orientation.models import OrientationCase, TerritoryGP
from app.outbox.errors import PermanentError, TransientError
from app.outbox.models import OutboxMessage
from app.patients.models import Patient
from app.practitioners.models import Practitioner
from telephony import PermanentSendError, TransientSendError

TOPIC = "orientation_notification"
logger = logging.getLogger(__name__)


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


async def send(message: OutboxMessage, app: FastAPI) -> dict[str, Any]:
    """Outbox sender of topic ``orientation_notification``: SMS or e-mail to the GP."""
    payload = message.payload
    to = payload.get("to")
    if not to:
        raise PermanentError(
            "Aucun contact (téléphone ou e-mail) pour ce médecin : prévenez-le par téléphone."
        )
    if payload.get("channel") == "email":
        return await _send_email(app.state.orientation_settings, to, payload)
    try:
        result = await app.state.telephony.send_sms(
            to, payload["body"], idempotency_key=message.key
        )
    except TransientSendError as exc:
        raise TransientError(f"SMS au médecin à réessayer : {exc}") from exc
    except PermanentSendError as exc:
        raise PermanentError(f"SMS au médecin refusé : {exc}") from exc
    return {"sid": result.sid}


async def _send_email(settings: OrientationSettings, to: str, payload: dict[str, Any]) -> dict:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = settings.mail_from, to, payload["subject"]
    mail.set_content(payload["body"])
    if not settings.smtp_host:
        logger.info("e-mail (console) to a GP: %s", payload["subject"])
        print(f"[E-mail → {to}] {payload['subject']}\n{payload['body']}", flush=True)
        return {"email": "console"}

    def deliver() -> None:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(mail)

    try:
        await asyncio.to_thread(deliver)
    except (OSError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError) as exc:
        raise TransientError(f"serveur de messagerie injoignable : {exc}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentError(f"adresse e-mail refusée : {to}") from exc
    except smtplib.SMTPException as exc:
        raise TransientError(f"envoi de l'e-mail à réessayer : {exc}") from exc
    return {"email": "smtp"}
