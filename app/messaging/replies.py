"""What patients do without an account: reply to our SMS, or cancel by the signed link.

ANNULER cancels the sender's next booked appointment through the booking rules
(as the patient), STOP/START change SMS consent, anything else waits for the
secretariat; the link page cancels once. Both are idempotent (MessageSid, nonce).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role, User
from app.appointments import service as appointments_service
from app.appointments.models import Appointment, AppointmentStatus
from app.appointments.service import BookingContext
from app.audit import service as audit_service
from app.messaging import outbound
from app.messaging.models import (
    Call,
    CancelLinkUse,
    InboundAction,
    InboundSms,
    SmsKind,
    SmsOptOut,
)
from app.patients.models import Patient
from telephony import (
    CancelLinkSigner,
    ExpiredCancelLink,
    InboundIntent,
    InvalidCancelLink,
    TelephonySettings,
    classify,
    sms_text,
)

# Another domain's answer to an inbound SMS (e.g. OUI/NON to a freed-slot offer, app/waitlist):
# called with the stored message and the sender's patients; True when it dealt with it.
ReplyHook = Callable[[AsyncSession, InboundSms, list[Patient], BookingContext], Awaitable[bool]]


def patient_actor(channel: str) -> User:
    """The patient acting without an account (reply by SMS, cancellation link).

    Not stored: the audit trail records the username ("patient:sms"); the booking
    rules need a role allowed to cancel any appointment.
    """
    return User(username=f"patient:{channel}", full_name="Le patient", role=Role.secretary)


async def patients_by_phone(*, session: AsyncSession, phone: str | None) -> list[Patient]:
    """Known patients with this number (E.164), oldest record first."""
    if not phone:
        return []
    rows = await session.scalars(select(Patient).where(Patient.phone == phone).order_by(Patient.id))
    return list(rows.all())


async def insert_once(session: AsyncSession, row: Call | InboundSms) -> bool:
    """Insert a webhook's row; False when Twilio's retry got there first (same sid)."""
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        return False
    return True


# --- inbound SMS -------------------------------------------------------------------------


async def _next_appointment(
    session: AsyncSession, patient_ids: Sequence[int], now: dt.datetime
) -> Appointment | None:
    if not patient_ids:
        return None
    return await session.scalar(
        select(Appointment)
        .where(
            Appointment.patient_id.in_(patient_ids),
            Appointment.status == AppointmentStatus.booked,
            Appointment.end_at > now,
        )
        .order_by(Appointment.start_at, Appointment.id)
        .limit(1)
    )


async def _set_consent(
    session: AsyncSession, patients: Iterable[Patient], consent: bool, inbound: InboundSms
) -> None:
    for patient in patients:
        if patient.sms_consent == consent:
            continue
        patient.sms_consent = consent
        await audit_service.record(
            session=session,
            actor=None,
            action="update",
            entity_type="patient",
            entity_id=patient.id,
            patient_id=patient.id,
            detail={"fields": ["sms_consent"], "sms_consent": consent, "inbound_sms": inbound.id},
        )


async def receive_sms(
    *,
    session: AsyncSession,
    message_sid: str,
    from_number: str,
    to_number: str | None,
    body: str,
    ctx: BookingContext,
    settings: TelephonySettings,
    reply_hooks: Sequence[ReplyHook] = (),
) -> InboundSms:
    """Act on an SMS sent to our number, once per MessageSid.

    ANNULER cancels the sender's next booked appointment (as the patient: the SAS
    is told by its listener, the confirmation SMS queued by ours); STOP withdraws
    SMS consent; anything else, or an unknown number, waits for the secretariat.
    """
    existing = await session.scalar(select(InboundSms).where(InboundSms.message_sid == message_sid))
    if existing is not None:
        return existing
    now = ctx.now
    patients = await patients_by_phone(session=session, phone=from_number)
    intent = classify(body)
    inbound = InboundSms(
        message_sid=message_sid,
        from_number=from_number,
        to_number=to_number,
        body=body[:1600],
        received_at=now,
        intent=str(intent),
        matched_patient_ids=[p.id for p in patients],
        patient_id=patients[0].id if len(patients) == 1 else None,
        action=InboundAction.stored,
        detail={},
    )
    if not await insert_once(session, inbound):
        found = await session.scalar(
            select(InboundSms).where(InboundSms.message_sid == message_sid)
        )
        assert found is not None
        return found
    if intent is InboundIntent.OPT_OUT:
        await _opt_out(session, inbound, patients, settings, now)
    elif not patients:
        inbound.action = InboundAction.unknown_number
    elif await _hooked(reply_hooks, session, inbound, patients, ctx):
        pass
    elif intent is InboundIntent.CANCEL:
        await _cancel_next(session, inbound, patients, ctx, settings)
    elif intent is InboundIntent.OPT_IN:
        await _opt_in(session, inbound, patients, settings, now)
    await session.flush()
    return inbound


async def _hooked(
    hooks: Sequence[ReplyHook],
    session: AsyncSession,
    inbound: InboundSms,
    patients: list[Patient],
    ctx: BookingContext,
) -> bool:
    for hook in hooks:
        if await hook(session, inbound, patients, ctx):
            return True
    return False


async def _cancel_next(
    session: AsyncSession,
    inbound: InboundSms,
    patients: list[Patient],
    ctx: BookingContext,
    settings: TelephonySettings,
) -> None:
    appointment = await _next_appointment(session, [p.id for p in patients], ctx.now)
    if appointment is None:
        inbound.action = InboundAction.no_appointment
        if any(outbound.may_text(p) for p in patients):
            await outbound.queue(
                session=session,
                kind=SmsKind.cancel_not_found,
                key=f"sms:inbound:{inbound.id}:not_found",
                to=inbound.from_number,
                body=sms_text.cancel_not_found(
                    cpts_name=settings.cpts_name, secretariat_phone=settings.secretariat_phone
                ),
                now=ctx.now,
                patient_id=patients[0].id,
            )
        return
    # The booking rules cancel it; the listeners queue the confirmation and tell the SAS.
    await appointments_service.cancel(
        session=session,
        appointment_id=appointment.id,
        reason="Annulé par le patient (réponse ANNULER par SMS)",
        by_patient=True,
        actor=patient_actor("sms"),
        ctx=ctx,
    )
    inbound.action = InboundAction.cancelled
    inbound.appointment_id = appointment.id
    inbound.patient_id = appointment.patient_id
    inbound.handled = True
    inbound.handled_at = ctx.now


async def _opt_out(
    session: AsyncSession,
    inbound: InboundSms,
    patients: list[Patient],
    settings: TelephonySettings,
    now: dt.datetime,
) -> None:
    record = await session.scalar(select(SmsOptOut).where(SmsOptOut.phone == inbound.from_number))
    if record is None:
        record = SmsOptOut(phone=inbound.from_number, opted_out_at=now, patient_ids=[])
        session.add(record)
    record.opted_out_at = now
    record.inbound_id = inbound.id
    record.patient_ids = sorted({*record.patient_ids, *(p.id for p in patients if p.sms_consent)})
    await _set_consent(session, patients, False, inbound)
    inbound.action = InboundAction.opted_out
    inbound.handled, inbound.handled_at = True, now
    if settings.sms_stop_reply:
        await outbound.queue(
            session=session,
            kind=SmsKind.stop_confirmation,
            key=f"sms:inbound:{inbound.id}:stop",
            to=inbound.from_number,
            body=sms_text.stop_confirmation(cpts_name=settings.cpts_name),
            now=now,
            patient_id=inbound.patient_id,
        )


async def _opt_in(
    session: AsyncSession,
    inbound: InboundSms,
    patients: list[Patient],
    settings: TelephonySettings,
    now: dt.datetime,
) -> None:
    record = await session.scalar(select(SmsOptOut).where(SmsOptOut.phone == inbound.from_number))
    if record is None:
        return  # never opted out here: a message for people to read
    # Consent comes back only for those whose consent STOP had withdrawn.
    await _set_consent(session, [p for p in patients if p.id in record.patient_ids], True, inbound)
    await session.delete(record)
    inbound.action = InboundAction.opted_in
    inbound.handled, inbound.handled_at = True, now
    if settings.sms_stop_reply:
        await outbound.queue(
            session=session,
            kind=SmsKind.start_confirmation,
            key=f"sms:inbound:{inbound.id}:start",
            to=inbound.from_number,
            body=sms_text.start_confirmation(cpts_name=settings.cpts_name),
            now=now,
            patient_id=inbound.patient_id,
        )


# --- the cancellation link ---------------------------------------------------------------


@dataclass(frozen=True)
class LinkState:
    """What the public cancellation page shows (never health data: a date and a time)."""

    state: str  # valid | cancelled | used | already_cancelled | not_cancellable | forged | expired
    start_at: dt.datetime | None = None


async def _check_link(
    session: AsyncSession, token: str, signer: CancelLinkSigner, now: dt.datetime
) -> tuple[LinkState, Appointment | None, str | None]:
    try:
        claim = signer.verify(token, now=now)
    except ExpiredCancelLink:
        return LinkState("expired"), None, None
    except InvalidCancelLink:
        return LinkState("forged"), None, None
    appointment = await session.get(Appointment, claim.appointment_id)
    if appointment is None:
        return LinkState("forged"), None, None
    used = await session.scalar(
        select(CancelLinkUse.id).where(
            CancelLinkUse.appointment_id == appointment.id, CancelLinkUse.nonce == claim.nonce
        )
    )
    if used is not None:
        return LinkState("used", appointment.start_at), None, None
    if appointment.status == AppointmentStatus.cancelled:
        return LinkState("already_cancelled", appointment.start_at), None, None
    if appointment.status != AppointmentStatus.booked:
        return LinkState("not_cancellable", appointment.start_at), None, None
    return LinkState("valid", appointment.start_at), appointment, claim.nonce


async def cancel_link_state(
    *, session: AsyncSession, token: str, signer: CancelLinkSigner, now: dt.datetime
) -> LinkState:
    """What the cancellation link can do now (the page asks the patient to confirm)."""
    state, _, _ = await _check_link(session, token, signer, now)
    return state


async def cancel_by_link(
    *, session: AsyncSession, token: str, signer: CancelLinkSigner, ctx: BookingContext
) -> LinkState:
    """The patient confirmed: cancel once; a forged, expired or used link does nothing."""
    state, appointment, nonce = await _check_link(session, token, signer, ctx.now)
    if appointment is None or nonce is None:
        return state
    try:
        async with session.begin_nested():
            session.add(CancelLinkUse(appointment_id=appointment.id, nonce=nonce, used_at=ctx.now))
            await session.flush()
    except IntegrityError:
        return LinkState("used", appointment.start_at)
    await appointments_service.cancel(
        session=session,
        appointment_id=appointment.id,
        reason="Annulé par le patient (lien reçu par SMS)",
        by_patient=True,
        actor=patient_actor("lien"),
        ctx=ctx,
    )
    return LinkState("cancelled", appointment.start_at)
