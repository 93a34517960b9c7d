"""HTTP routes of the messaging domain: Twilio's webhooks and the secretariat's lists.

Webhooks answer TwiML (voice, inbound SMS) or 204 (status callbacks) and act only
on requests signed by Twilio (:data:`TwilioParams`). The public cancellation page
is mounted by the wiring at ``CANCEL_LINK_PATH`` (see :mod:`app.messaging.pages`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from app.accounts.dependencies import STAFF, CurrentUser, require_roles
from app.accounts.models import Role, User
from app.appointments.dependencies import BookingContextDep
from app.core.clock import NowDep
from app.core.db import SessionDep
from app.core.errors import InvalidInput
from app.core.timeutil import PARIS
from app.messaging import service as messaging_service
from app.messaging.dependencies import TwilioParams
from app.messaging.schemas import CallOut, InboundOut, SmsOut
from telephony import TelephonySettings, public_url, voice

router = APIRouter()
twilio = APIRouter(prefix="/telephony", tags=["telephony"])
api = APIRouter(prefix="/api", tags=["messaging"])

StaffUser = Annotated[User, require_roles(*STAFF)]
TWIML = "application/xml"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'
MENU_PATH = "/telephony/voice/menu"


def _settings(request: Request) -> TelephonySettings:
    return request.app.state.telephony_settings


def _sid(params: dict[str, str], name: str) -> str:
    value = params.get(name, "").strip()
    if not value:
        raise InvalidInput(f"Champ {name} manquant.", field=name)
    return value[:64]


# --- Twilio webhooks ---------------------------------------------------------------------


@twilio.post("/voice", response_class=Response)
async def incoming_call(
    request: Request, params: TwilioParams, session: SessionDep, now: NowDep
) -> Response:
    """A call on the public line: logged, then welcome + queue, or the closed message."""
    settings = _settings(request)
    await messaging_service.receive_call(
        session=session,
        call_sid=_sid(params, "CallSid"),
        from_number=params.get("From"),
        to_number=params.get("To"),
        status=params.get("CallStatus"),
        now=now,
        settings=settings,
    )
    xml = voice.incoming_call(
        settings, at=now, menu_url=public_url(settings, MENU_PATH), caller=params.get("From")
    )
    return Response(content=xml, media_type=TWIML)


@twilio.post("/voice/menu", response_class=Response)
async def call_menu(
    request: Request, params: TwilioParams, session: SessionDep, now: NowDep
) -> Response:
    """The key the caller pressed: 1 leaves a call-back request; otherwise the queue."""
    settings = _settings(request)
    digits = params.get("Digits")
    caller = params.get("From")
    if (digits or "").strip() == voice.CALLBACK_DIGIT and voice.is_callable_number(caller):
        await messaging_service.request_callback(
            session=session,
            call_sid=_sid(params, "CallSid"),
            from_number=caller,
            to_number=params.get("To"),
            now=now,
            settings=settings,
        )
    xml = voice.menu_choice(settings, digits=digits, at=now)
    return Response(content=xml, media_type=TWIML)


@twilio.post("/voice/status", status_code=204, response_class=Response)
async def call_status(params: TwilioParams, session: SessionDep, now: NowDep) -> Response:
    """Twilio's call status callback (final status, duration)."""
    duration = params.get("CallDuration")
    await messaging_service.update_call_status(
        session=session,
        call_sid=_sid(params, "CallSid"),
        status=params.get("CallStatus"),
        duration_seconds=int(duration) if duration and duration.isdigit() else None,
        now=now,
    )
    return Response(status_code=204)


@twilio.post("/sms", response_class=Response)
async def incoming_sms(
    request: Request, params: TwilioParams, session: SessionDep, ctx: BookingContextDep
) -> Response:
    """An SMS to our number; answers go through the outbox (tracked), never inline TwiML."""
    await messaging_service.receive_sms(
        session=session,
        message_sid=_sid(params, "MessageSid"),
        from_number=params.get("From", "")[:32],
        to_number=params.get("To"),
        body=params.get("Body", ""),
        ctx=ctx,
        settings=_settings(request),
        reply_hooks=getattr(request.app.state, "sms_reply_hooks", ()),
    )
    return Response(content=EMPTY_TWIML, media_type=TWIML)


@twilio.post("/sms/status", status_code=204, response_class=Response)
async def sms_status(
    params: TwilioParams,
    session: SessionDep,
    now: NowDep,
    sms: Annotated[int | None, Query()] = None,
) -> Response:
    """Delivery status callback: queued, sent, delivered, undelivered, failed (+ error code)."""
    code = params.get("ErrorCode")
    await messaging_service.record_delivery_status(
        session=session,
        sms_id=sms,
        message_sid=params.get("MessageSid") or params.get("SmsSid"),
        status=params.get("MessageStatus") or params.get("SmsStatus"),
        error_code=int(code) if code and code.isdigit() else None,
        now=now,
    )
    return Response(status_code=204)


# --- the secretariat's JSON API ----------------------------------------------------------


def _day(date: dt.date | None, now: dt.datetime) -> dt.date:
    return date or now.astimezone(PARIS).date()


@api.get("/calls", response_model=list[CallOut])
async def calls(
    session: SessionDep, user: StaffUser, now: NowDep, date: dt.date | None = None
) -> Any:
    """The day's calls and call-back requests (today by default)."""
    return await messaging_service.list_calls(session=session, day=_day(date, now), actor=user)


@api.post("/calls/{call_id}/handled", response_model=CallOut)
async def call_handled(call_id: int, session: SessionDep, user: StaffUser, now: NowDep) -> Any:
    call = await messaging_service.mark_call_handled(
        session=session, call_id=call_id, actor=user, now=now
    )
    day = call.started_at.astimezone(PARIS).date()
    listed = await messaging_service.list_calls(session=session, day=day, actor=user)
    return next(c for c in listed if c.id == call.id)


@api.get("/sms/failures", response_model=list[SmsOut])
async def sms_failures(session: SessionDep, user: StaffUser, date: dt.date | None = None) -> Any:
    """SMS that did not reach the patient, still to deal with (call the patient)."""
    return await messaging_service.list_failures(session=session, day=date, actor=user)


@api.post("/sms/{sms_id}/handled", status_code=204, response_class=Response)
async def sms_handled(sms_id: int, session: SessionDep, user: StaffUser, now: NowDep) -> Response:
    await messaging_service.mark_sms_handled(session=session, sms_id=sms_id, actor=user, now=now)
    return Response(status_code=204)


@api.get("/sms/inbound", response_model=list[InboundOut])
async def sms_inbound(session: SessionDep, user: StaffUser, date: dt.date | None = None) -> Any:
    """SMS received (the day's, and every one still to read)."""
    return await messaging_service.list_inbound(session=session, day=date, actor=user)


@api.post("/sms/inbound/{inbound_id}/handled", status_code=204, response_class=Response)
async def inbound_handled(
    inbound_id: int, session: SessionDep, user: StaffUser, now: NowDep
) -> Response:
    await messaging_service.mark_inbound_handled(
        session=session, inbound_id=inbound_id, actor=user, now=now
    )
    return Response(status_code=204)


@api.get(
    "/patients/{patient_id}/sms",
    response_model=list[SmsOut],
    dependencies=[
        require_roles(
            *Role,
            own="médecin : les patients qu'il a reçus ; régulateur SAS : ceux qu'il a adressés",
        )
    ],
)
async def patient_sms(patient_id: int, session: SessionDep, user: CurrentUser) -> Any:
    """Every SMS sent to a patient (access checked and traced like the patient's file)."""
    return await messaging_service.sms_for_patient(
        session=session, patient_id=patient_id, actor=user
    )


router.include_router(twilio)
router.include_router(api)
