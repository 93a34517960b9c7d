"""SMS to patients: queued in the booking transaction, sent by the outbox worker, once.

Every SMS is a row in ``sms_messages`` plus an outbox message (topic ``sms``) keyed
on the appointment event, so a retried event never queues it twice. The worker's
handler (:func:`deliver`) sends it through the provider on ``app.state`` and keeps
Twilio's sid. An attempt whose outcome is unknown (time-out after Twilio may have
accepted, a worker killed mid-send) is followed, on the next attempt, by a look at
Twilio for that message before anything is sent again.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.appointments.events import AppointmentEvent, EventKind
from app.appointments.models import Appointment, AppointmentStatus
from app.messaging.models import SmsKind, SmsMessage, SmsOptOut, SmsStatus
from app.outbox import service as outbox_service
from app.outbox.errors import PermanentError, TransientError
from app.outbox.models import OutboxMessage
from app.patients.models import Patient
from app.practitioners.models import Practitioner
from telephony import (
    CancelLinkSigner,
    PermanentSendError,
    SendError,
    SendResult,
    TelephonySettings,
    TransientSendError,
    cancel_url,
    public_url,
    sms_text,
)
from telephony.reminders import reminder_times

log = logging.getLogger(__name__)

TOPIC = "sms"
STATUS_CALLBACK_PATH = "/telephony/sms/status"
# How far back Twilio is searched for a message whose send attempt had no clear answer.
_LOOKUP_MARGIN = dt.timedelta(minutes=2)
# Reminders are looked for among appointments starting within this horizon.
_REMINDER_HORIZON = dt.timedelta(days=2)

# SMS about an appointment that only make sense while it is still booked.
_WHILE_BOOKED = (
    SmsKind.booking_confirmation,
    SmsKind.change_notice,
    SmsKind.arrival_window,
    SmsKind.reminder,
)
# Answers to a STOP/START: sent whatever the consent (that is their point).
_CONSENT_ANSWERS = (SmsKind.stop_confirmation, SmsKind.start_confirmation)

# Status progression: a late "sent" callback never overwrites "delivered".
_RANK = {
    SmsStatus.pending: 0,
    SmsStatus.queued: 1,
    SmsStatus.sent: 2,
    SmsStatus.delivered: 3,
    SmsStatus.undelivered: 3,
    SmsStatus.failed: 3,
    SmsStatus.skipped: 3,
}
_PROVIDER_STATUS = {
    "accepted": SmsStatus.queued,
    "scheduled": SmsStatus.queued,
    "queued": SmsStatus.queued,
    "sending": SmsStatus.queued,
    "sent": SmsStatus.sent,
    "delivered": SmsStatus.delivered,
    "read": SmsStatus.delivered,
    "undelivered": SmsStatus.undelivered,
    "failed": SmsStatus.failed,
    "canceled": SmsStatus.failed,
}


def provider_status(value: str | None) -> SmsStatus | None:
    """Our status for a provider's message status (None when unknown)."""
    return _PROVIDER_STATUS.get((value or "").strip().lower())


def advance(sms: SmsMessage, status: SmsStatus, now: dt.datetime) -> bool:
    """Move ``sms`` forward to ``status``; callbacks arrive in any order, never backwards."""
    if _RANK[status] <= _RANK[sms.status]:
        return False
    sms.status = status
    sms.status_at = now
    return True


def _ts(value: dt.datetime) -> int:
    return int(value.timestamp())


def may_text(patient: Patient | None) -> bool:
    """Whether the patient agreed to SMS and has a number to send them to."""
    return patient is not None and patient.sms_consent and bool(patient.phone)


async def queue(
    *,
    session: AsyncSession,
    kind: SmsKind,
    key: str,
    to: str,
    body: str,
    now: dt.datetime,
    patient_id: int | None = None,
    appointment_id: int | None = None,
    ordering_key: str | None = None,
) -> SmsMessage:
    """Record an SMS and queue it in the caller's transaction; the same key is the same SMS."""
    existing = await session.scalar(select(SmsMessage).where(SmsMessage.outbox_key == key))
    if existing is not None:
        return existing
    sms = SmsMessage(
        patient_id=patient_id,
        appointment_id=appointment_id,
        kind=kind,
        to_number=to,
        body=body,
        outbox_key=key,
        requested_at=now,
        status=SmsStatus.pending,
    )
    session.add(sms)
    await session.flush()
    await outbox_service.enqueue(
        session=session,
        topic=TOPIC,
        key=key,
        payload={"sms_id": sms.id},
        ordering_key=ordering_key,
        now=now,
    )
    return sms


class Texts:
    """Renders the SMS of an appointment with the telephony settings and the link signer."""

    def __init__(self, settings: TelephonySettings, signer: CancelLinkSigner) -> None:
        self.settings = settings
        self.signer = signer

    def cancel_options(self, appointment: Appointment) -> sms_text.CancelOptions:
        url = None
        if self.settings.sms_cancel_link:
            token = self.signer.issue(appointment.id, expires_at=appointment.end_at)
            url = cancel_url(self.settings.public_base_url, token, self.settings.cancel_link_path)
        return sms_text.CancelOptions.from_settings(self.settings, url)

    def common(self, appointment: Appointment, practitioner: Practitioner) -> dict[str, Any]:
        return {
            "modality": str(appointment.kind),
            "start": appointment.start_at,
            "end": appointment.end_at,
            "practitioner": practitioner.display_name,
            "cpts_name": self.settings.cpts_name,
            "tz": self.settings.tz,
        }


def texts(app: FastAPI) -> Texts:
    return Texts(app.state.telephony_settings, app.state.cancel_links)


async def on_appointment_event(
    app: FastAPI, session: AsyncSession, event: AppointmentEvent
) -> None:
    """Queue the SMS an appointment event calls for (only to patients who agreed)."""
    appointment = event.appointment
    if event.kind == EventKind.outcome:
        return
    patient = await session.get(Patient, appointment.patient_id)
    if not may_text(patient):
        return
    assert patient is not None and patient.phone
    practitioner = await session.get(Practitioner, appointment.practitioner_id)
    assert practitioner is not None
    t = texts(app)
    settings = t.settings
    a_id = appointment.id
    if event.kind == EventKind.booked:
        kind, key = SmsKind.booking_confirmation, f"sms:booked:{a_id}"
        body = sms_text.booking_confirmation(
            **t.common(appointment, practitioner),
            cancel=t.cancel_options(appointment),
            video_url=appointment.video_url,
        )
    elif event.kind == EventKind.rescheduled:
        kind = SmsKind.change_notice
        key = f"sms:rescheduled:{a_id}:{_ts(appointment.start_at)}:{_ts(event.now)}"
        body = sms_text.change_notice(
            **t.common(appointment, practitioner),
            old_start=event.previous_start or appointment.start_at,
            cancel=t.cancel_options(appointment),
        )
    elif event.kind == EventKind.cancelled:
        key = f"sms:cancelled:{a_id}"
        if appointment.cancelled_by_patient:
            # The patient cancelled (ANNULER, the link, or on the phone): confirm it.
            kind = SmsKind.cancel_confirmation
            body = sms_text.cancel_confirmation(
                start=appointment.start_at, cpts_name=settings.cpts_name, tz=settings.tz
            )
        else:
            kind = SmsKind.cancellation_notice
            body = sms_text.cancellation_notice(
                start=appointment.start_at,
                cpts_name=settings.cpts_name,
                secretariat_phone=settings.secretariat_phone,
                tz=settings.tz,
            )
    elif event.kind == EventKind.window_narrowed:
        kind = SmsKind.arrival_window
        key = f"sms:window:{a_id}:{_ts(appointment.start_at)}-{_ts(appointment.end_at)}"
        body = sms_text.arrival_window(
            window_start=appointment.start_at,
            window_end=appointment.end_at,
            practitioner=practitioner.display_name,
            cpts_name=settings.cpts_name,
            tz=settings.tz,
        )
    else:
        return
    await queue(
        session=session,
        kind=kind,
        key=key,
        to=patient.phone,
        body=body,
        now=event.now,
        patient_id=patient.id,
        appointment_id=a_id,
        ordering_key=f"sms:appointment:{a_id}",
    )


async def queue_due_reminders(app: FastAPI) -> int:
    """Periodic job: queue the reminders due now (evening before, hours before); returns how many.

    Computed from each booked appointment's current time, so a rescheduled or
    narrowed appointment is reminded at its new time; one reminder of each kind
    per appointment and day (the outbox key), and none sent hours late.
    """
    now: dt.datetime = app.state.clock()
    t = texts(app)
    settings = t.settings
    max_delay = dt.timedelta(minutes=settings.reminder_max_delay_minutes)
    queued = 0
    async with app.state.sessionmaker() as session, session.begin():
        rows = (
            await session.execute(
                select(Appointment, Patient, Practitioner)
                .join(Patient, Patient.id == Appointment.patient_id)
                .join(Practitioner, Practitioner.id == Appointment.practitioner_id)
                .where(
                    Appointment.status == AppointmentStatus.booked,
                    Appointment.start_at > now,
                    Appointment.start_at <= now + _REMINDER_HORIZON,
                    Patient.sms_consent.is_(True),
                    Patient.phone.is_not(None),
                )
                .order_by(Appointment.start_at, Appointment.id)
            )
        ).all()
        for appointment, patient, practitioner in rows:
            due = reminder_times(
                settings, start=appointment.start_at, booked_at=appointment.status_changed_at
            )
            for reminder in due:
                if not reminder.send_at <= now < reminder.send_at + max_delay:
                    continue
                day = appointment.start_at.astimezone(settings.tz).date().isoformat()
                key = f"sms:reminder:{reminder.kind}:{appointment.id}:{day}"
                if await session.scalar(select(SmsMessage.id).where(SmsMessage.outbox_key == key)):
                    continue
                body = sms_text.reminder(
                    **t.common(appointment, practitioner), cancel=t.cancel_options(appointment)
                )
                await queue(
                    session=session,
                    kind=SmsKind.reminder,
                    key=key,
                    to=patient.phone,
                    body=body,
                    now=now,
                    patient_id=patient.id,
                    appointment_id=appointment.id,
                )
                queued += 1
    return queued


async def _reason_not_to_send(
    session: AsyncSession, sms: SmsMessage, now: dt.datetime
) -> str | None:
    """Why an SMS queued earlier must not leave now (consent withdrawn, appointment over)."""
    if sms.kind in _CONSENT_ANSWERS:
        return None
    opted_out = await session.scalar(select(SmsOptOut.id).where(SmsOptOut.phone == sms.to_number))
    if opted_out is not None:
        return "le destinataire a répondu STOP"
    if sms.patient_id is not None:
        patient = await session.get(Patient, sms.patient_id)
        if not may_text(patient):
            return "le patient ne souhaite plus recevoir de SMS"
    if sms.kind in _WHILE_BOOKED and sms.appointment_id is not None:
        appointment = await session.get(Appointment, sms.appointment_id)
        if appointment is None or appointment.status != AppointmentStatus.booked:
            return "le rendez-vous n'est plus d'actualité"
        if sms.kind == SmsKind.reminder and appointment.start_at <= now:
            return "le rendez-vous a déjà commencé"
    return None


async def _adopt_existing(
    app: FastAPI, sms_id: int, to: str, body: str, since: dt.datetime
) -> SendResult | None:
    """A message Twilio already accepted for this SMS during an attempt of unknown outcome."""
    try:
        found = await app.state.telephony.find_messages(to=to, body=body, since=since)
    except SendError as exc:
        raise TransientError(f"vérification chez le fournisseur impossible : {exc}") from exc
    if not found:
        return None
    async with app.state.sessionmaker() as session:
        owned = set(
            (
                await session.scalars(
                    select(SmsMessage.sid).where(
                        SmsMessage.sid.in_([r.sid for r in found]), SmsMessage.id != sms_id
                    )
                )
            ).all()
        )
    # Oldest first: if two went out, the first is ours and the second a true duplicate.
    for result in reversed(found):
        if result.sid not in owned:
            return result
    return None


async def _record(app: FastAPI, sms_id: int, **changes: Any) -> None:
    now = app.state.clock()
    async with app.state.sessionmaker() as session, session.begin():
        sms = await session.get(SmsMessage, sms_id)
        if sms is None:
            return
        status = changes.pop("status", None)
        result: SendResult | None = changes.pop("result", None)
        if result is not None:
            if sms.sid is None:
                sms.sid = result.sid
            sms.accepted_at = sms.accepted_at or now
            advance(sms, provider_status(result.status) or SmsStatus.queued, now)
            if result.error_code:
                sms.error_code = result.error_code
        if status is not None:
            advance(sms, status, now)
        for name, value in changes.items():
            setattr(sms, name, value)


async def deliver(message: OutboxMessage, app: FastAPI) -> dict[str, Any]:
    """Outbox handler of topic ``sms``: send one SMS through the provider, never twice."""
    sms_id = int(message.payload["sms_id"])
    now: dt.datetime = app.state.clock()
    async with app.state.sessionmaker() as session, session.begin():
        sms = await session.get(SmsMessage, sms_id)
        if sms is None:
            raise PermanentError(f"SMS n°{sms_id} introuvable")
        if sms.sid is not None:
            return {"sid": sms.sid}  # already accepted (the worker died before recording it)
        if sms.status == SmsStatus.skipped:
            return {"skipped": sms.error_message}
        reason = await _reason_not_to_send(session, sms, now)
        if reason is not None:
            advance(sms, SmsStatus.skipped, now)
            sms.error_message = reason
            return {"skipped": reason}
        to, body, created = sms.to_number, sms.body, sms.created_at
    # Session closed before any network call (SQLite's write lock, pool slots).
    if message.attempts > 1:
        adopted = await _adopt_existing(app, sms_id, to, body, created - _LOOKUP_MARGIN)
        if adopted is not None:
            log.info("SMS %s already accepted as %s: not sent again", sms_id, adopted.sid)
            await _record(app, sms_id, result=adopted, error_message=None)
            return {"sid": adopted.sid, "adopted": True}
    callback = public_url(app.state.telephony_settings, STATUS_CALLBACK_PATH, f"sms={sms_id}")
    try:
        result = await app.state.telephony.send_sms(
            to, body, idempotency_key=message.key, status_callback=callback
        )
    except PermanentSendError as exc:
        await _record(
            app,
            sms_id,
            status=SmsStatus.failed,
            error_code=exc.code,
            error_message=str(exc)[:300],
        )
        raise PermanentError(f"SMS refusé ({exc.code or exc.status}) : {exc}") from exc
    except TransientSendError as exc:
        await _record(app, sms_id, error_message=str(exc)[:300])
        note = " (peut-être accepté : vérifié avant de renvoyer)" if exc.ambiguous else ""
        raise TransientError(f"envoi SMS à réessayer : {exc}{note}") from exc
    await _record(app, sms_id, result=result, error_message=None)
    return {"sid": result.sid}
