"""The public line and patients' SMS: calls logged, delivery tracked, lists for the secretariat."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TypeVar

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.audit import service as audit_service
from app.core.errors import NotFound
from app.core.timeutil import day_bounds
from app.messaging import outbound
from app.messaging.models import (
    FAILED_STATUSES,
    Call,
    CallOutcome,
    InboundAction,
    InboundSms,
    SmsMessage,
)
from app.messaging.replies import (  # noqa: F401  (re-exported: the domain's service API)
    LinkState,
    cancel_by_link,
    cancel_link_state,
    insert_once,
    patient_actor,
    patients_by_phone,
    receive_sms,
)
from app.messaging.schemas import CallOut, InboundOut, PatientRef, SmsOut
from app.patients import service as patients_service
from app.patients.models import Patient
from telephony import TelephonySettings
from telephony.hours import local_time, public_holiday
from telephony.voice import secretariat_is_open

_Handled = TypeVar("_Handled", Call, InboundSms, SmsMessage)

CALL_STATUS_LABELS = {
    "queued": "en attente",
    "ringing": "en cours",
    "in-progress": "en cours",
    "completed": "terminé",
    "busy": "occupé",
    "no-answer": "sans réponse",
    "failed": "échec",
    "canceled": "raccroché",
}
INBOUND_ACTION_LABELS = {
    InboundAction.cancelled: "rendez-vous annulé",
    InboundAction.no_appointment: "ANNULER sans rendez-vous à venir",
    InboundAction.opted_out: "ne veut plus de SMS (STOP)",
    InboundAction.opted_in: "SMS réactivés (START)",
    InboundAction.unknown_number: "numéro inconnu",
    InboundAction.stored: "message à lire",
}
SMS_ERROR_LABELS = {
    21211: "numéro invalide",
    21610: "le patient a répondu STOP",
    21614: "pas un numéro de mobile",
    30003: "téléphone injoignable",
    30005: "numéro inconnu de l'opérateur",
    30006: "ligne fixe ou opérateur injoignable",
    30007: "message filtré par l'opérateur",
}


def _name(patient: Patient) -> str:
    return patient.display_name


# --- the public line ---------------------------------------------------------------------


def call_outcome(settings: TelephonySettings, at: dt.datetime) -> CallOutcome:
    """What the line answers at ``at``: the queue, closed, or closed for a public holiday."""
    if secretariat_is_open(settings, at):
        return CallOutcome.queued
    local = local_time(at, settings.tz)
    if settings.closed_on_public_holidays and public_holiday(local.date()):
        return CallOutcome.holiday
    return CallOutcome.closed


async def receive_call(
    *,
    session: AsyncSession,
    call_sid: str,
    from_number: str | None,
    to_number: str | None,
    status: str | None,
    now: dt.datetime,
    settings: TelephonySettings,
) -> Call:
    """Log an incoming call once (Twilio may ask again with the same CallSid)."""
    existing = await session.scalar(select(Call).where(Call.call_sid == call_sid))
    if existing is not None:
        return existing
    patients = await patients_by_phone(session=session, phone=from_number)
    call = Call(
        call_sid=call_sid,
        from_number=from_number or None,
        to_number=to_number or None,
        started_at=now,
        status=status or "ringing",
        outcome=call_outcome(settings, now),
        matched_patient_ids=[p.id for p in patients],
    )
    if not await insert_once(session, call):
        found = await session.scalar(select(Call).where(Call.call_sid == call_sid))
        assert found is not None
        return found
    return call


async def request_callback(
    *,
    session: AsyncSession,
    call_sid: str,
    from_number: str | None,
    to_number: str | None,
    now: dt.datetime,
    settings: TelephonySettings,
) -> Call:
    """The caller pressed the call-back key: the call lands in the list to call back."""
    call = await receive_call(
        session=session,
        call_sid=call_sid,
        from_number=from_number,
        to_number=to_number,
        status="in-progress",
        now=now,
        settings=settings,
    )
    if not call.callback_requested:
        call.callback_requested = True
        call.callback_requested_at = now
        call.handled = False
        await session.flush()
    return call


async def update_call_status(
    *,
    session: AsyncSession,
    call_sid: str,
    status: str | None,
    duration_seconds: int | None,
    now: dt.datetime,
) -> Call | None:
    """Twilio's call status callback: final status and duration."""
    call = await session.scalar(select(Call).where(Call.call_sid == call_sid))
    if call is None:
        return None
    if status:
        call.status = status[:20]
    if duration_seconds is not None:
        call.duration_seconds = duration_seconds
    if status in ("completed", "busy", "no-answer", "failed", "canceled"):
        call.ended_at = call.ended_at or now
    await session.flush()
    return call


async def _patients(session: AsyncSession, ids: Iterable[int]) -> dict[int, Patient]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.scalars(select(Patient).where(Patient.id.in_(wanted)))
    return {p.id: p for p in rows.all()}


async def _trace(
    session: AsyncSession, actor: User | None, action: str, entity: str, rows: Iterable[tuple]
) -> None:
    """Every patient shown in a list is a read of their data: trace each one."""
    if actor is None:
        return
    for entity_id, patient_id in rows:
        await audit_service.record(
            session=session,
            actor=actor,
            action=action,
            entity_type=entity,
            entity_id=entity_id,
            patient_id=patient_id,
        )


async def list_calls(
    *, session: AsyncSession, day: dt.date, actor: User | None = None
) -> list[CallOut]:
    """The day's calls (Paris day), newest first, callers matched to known patients."""
    start, end = day_bounds(day)
    calls = (
        await session.scalars(
            select(Call)
            .where(Call.started_at >= start, Call.started_at < end)
            .order_by(Call.started_at.desc(), Call.id.desc())
        )
    ).all()
    patients = await _patients(session, (i for c in calls for i in c.matched_patient_ids))
    out = []
    for call in calls:
        matched = [patients[i] for i in call.matched_patient_ids if i in patients]
        single = matched[0] if len(matched) == 1 else None
        out.append(
            CallOut(
                id=call.id,
                call_sid=call.call_sid,
                started_at=call.started_at,
                from_number=call.from_number,
                to_number=call.to_number,
                status=call.status,
                status_label=CALL_STATUS_LABELS.get(call.status, call.status),
                outcome=str(call.outcome),
                duration_seconds=call.duration_seconds,
                callback_requested=call.callback_requested,
                callback_requested_at=call.callback_requested_at,
                handled=call.handled,
                handled_at=call.handled_at,
                matched_patients=[PatientRef(id=p.id, name=_name(p)) for p in matched],
                patient_id=single.id if single else None,
                patient_name=_name(single) if single else None,
            )
        )
    await _trace(
        session, actor, "list", "call", ((c.id, p.id) for c in out for p in c.matched_patients)
    )
    return out


async def _mark_handled(
    session: AsyncSession,
    model: type[_Handled],
    row_id: int,
    actor: User,
    now: dt.datetime,
    what: str,
) -> _Handled:
    """Tick a call or an SMS off the secretariat's list: who and when."""
    row = await session.get(model, row_id)
    if row is None:
        raise NotFound(f"{what} introuvable.")
    row.handled, row.handled_at, row.handled_by_id = True, now, actor.id
    await session.flush()
    return row


async def mark_call_handled(
    *, session: AsyncSession, call_id: int, actor: User, now: dt.datetime
) -> Call:
    """The secretariat called back (or dealt with the call)."""
    return await _mark_handled(session, Call, call_id, actor, now, f"Appel n°{call_id}")


# --- inbound SMS -------------------------------------------------------------------------


async def list_inbound(
    *,
    session: AsyncSession,
    day: dt.date | None = None,
    actor: User | None = None,
    include_handled: bool = True,
) -> list[InboundOut]:
    """SMS received: the day's (or all), plus any earlier one nobody has dealt with yet."""
    stmt = select(InboundSms).order_by(InboundSms.received_at.desc(), InboundSms.id.desc())
    if day is not None:
        start, end = day_bounds(day)
        stmt = stmt.where(
            InboundSms.received_at < end,
            or_(InboundSms.received_at >= start, InboundSms.handled.is_(False)),
        )
    if not include_handled:
        stmt = stmt.where(InboundSms.handled.is_(False))
    rows = (await session.scalars(stmt.limit(500))).all()
    patients = await _patients(session, (i for m in rows for i in m.matched_patient_ids))
    out = []
    for m in rows:
        matched = [patients[i] for i in m.matched_patient_ids if i in patients]
        who = patients.get(m.patient_id) if m.patient_id else None
        out.append(
            InboundOut(
                id=m.id,
                message_sid=m.message_sid,
                received_at=m.received_at,
                from_number=m.from_number,
                body=m.body,
                intent=m.intent,
                action=str(m.action),
                action_label=INBOUND_ACTION_LABELS[m.action],
                patient_id=m.patient_id,
                patient_name=_name(who) if who else None,
                matched_patients=[PatientRef(id=p.id, name=_name(p)) for p in matched],
                appointment_id=m.appointment_id,
                handled=m.handled,
            )
        )
    await _trace(
        session,
        actor,
        "list",
        "sms_inbound",
        ((m.id, p.id) for m in out for p in m.matched_patients),
    )
    return out


async def mark_inbound_handled(
    *, session: AsyncSession, inbound_id: int, actor: User, now: dt.datetime
) -> InboundSms:
    """The secretariat read (and dealt with) an SMS received."""
    return await _mark_handled(
        session, InboundSms, inbound_id, actor, now, f"SMS reçu n°{inbound_id}"
    )


# --- outbound SMS: status callbacks, failures, a patient's history -------------------------


async def record_delivery_status(
    *,
    session: AsyncSession,
    sms_id: int | None,
    message_sid: str | None,
    status: str | None,
    error_code: int | None,
    now: dt.datetime,
) -> SmsMessage | None:
    """Twilio's delivery status callback: move the SMS forward (queued → sent → delivered…).

    ``sms_id`` comes from the callback URL we gave: it also ties a message whose
    send answer was lost to its Twilio sid, so it is never sent again.
    """
    sms = None
    if sms_id is not None:
        sms = await session.get(SmsMessage, sms_id)
        if sms is not None and message_sid and sms.sid not in (None, message_sid):
            sms = None  # another message's callback (a duplicate): look it up by sid
    if sms is None and message_sid:
        sms = await session.scalar(select(SmsMessage).where(SmsMessage.sid == message_sid))
    if sms is None:
        return None
    if sms.sid is None and message_sid:
        sms.sid = message_sid
        sms.accepted_at = sms.accepted_at or now
    new = outbound.provider_status(status)
    if new is not None and outbound.advance(sms, new, now) and new in FAILED_STATUSES:
        sms.error_code = error_code
        sms.handled = False
    elif error_code and sms.error_code is None:
        sms.error_code = error_code
    await session.flush()
    return sms


def _sms_out(sms: SmsMessage, patient: Patient | None = None) -> SmsOut:
    error = None
    if sms.error_code:
        error = SMS_ERROR_LABELS.get(sms.error_code, f"erreur {sms.error_code}")
    elif sms.status in FAILED_STATUSES:
        error = sms.error_message or "non délivré"
    return SmsOut(
        id=sms.id,
        patient_id=sms.patient_id,
        patient_name=_name(patient) if patient else None,
        appointment_id=sms.appointment_id,
        kind=str(sms.kind),
        to_number=sms.to_number,
        body=sms.body,
        status=str(sms.status),
        status_at=sms.status_at,
        requested_at=sms.requested_at,
        accepted_at=sms.accepted_at,
        sid=sms.sid,
        error_code=sms.error_code,
        error=error,
        handled=sms.handled,
    )


async def list_failures(
    *,
    session: AsyncSession,
    day: dt.date | None = None,
    actor: User | None = None,
) -> list[SmsOut]:
    """SMS that did not reach the patient (failed, undelivered) and nobody has dealt with yet.

    With ``day``, those asked for up to the end of that day.
    """
    stmt = (
        select(SmsMessage)
        .where(SmsMessage.status.in_(FAILED_STATUSES), SmsMessage.handled.is_(False))
        .order_by(SmsMessage.requested_at.desc(), SmsMessage.id.desc())
        .limit(500)
    )
    if day is not None:
        stmt = stmt.where(SmsMessage.requested_at < day_bounds(day)[1])
    rows = (await session.scalars(stmt)).all()
    patients = await _patients(session, (m.patient_id for m in rows if m.patient_id))
    out = [_sms_out(m, patients.get(m.patient_id) if m.patient_id else None) for m in rows]
    await _trace(session, actor, "list", "sms", ((m.id, m.patient_id) for m in out if m.patient_id))
    return out


async def mark_sms_handled(
    *, session: AsyncSession, sms_id: int, actor: User, now: dt.datetime
) -> SmsMessage:
    """The secretariat reached the patient another way."""
    return await _mark_handled(session, SmsMessage, sms_id, actor, now, f"SMS n°{sms_id}")


async def sms_for_patient(*, session: AsyncSession, patient_id: int, actor: User) -> list[SmsOut]:
    """Every SMS sent to a patient, newest first (access checked and traced)."""
    patient = await patients_service.get(
        session=session, patient_id=patient_id, actor=actor, purpose="read_sms"
    )
    rows = await session.scalars(
        select(SmsMessage)
        .where(SmsMessage.patient_id == patient.id)
        .order_by(SmsMessage.requested_at.desc(), SmsMessage.id.desc())
    )
    return [_sms_out(m, patient) for m in rows.all()]
