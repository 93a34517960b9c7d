"""ORM models of the messaging domain: the public line's calls, SMS out and in, opt-outs."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, TimestampMixin


class CallOutcome(enum.StrEnum):
    queued = "queued"  # in hours: welcomed and put in the secretariat's queue
    closed = "closed"  # out of hours: 15 / 116 117 / hours given
    holiday = "holiday"  # a public holiday: closed message


class Call(TimestampMixin, Base):
    """One call on the public line, logged when Twilio first asks what to answer."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_number: Mapped[str | None] = mapped_column(String(32), index=True)
    to_number: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[dt.datetime] = mapped_column(index=True)
    ended_at: Mapped[dt.datetime | None]
    duration_seconds: Mapped[int | None]
    # Twilio's CallStatus (ringing, in-progress, completed, busy, no-answer, failed, canceled).
    status: Mapped[str] = mapped_column(String(20), default="ringing")
    outcome: Mapped[CallOutcome] = mapped_column(Enum(CallOutcome, native_enum=False, length=10))
    # Patients whose phone number is the caller's (several: a family sharing a phone).
    matched_patient_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    callback_requested: Mapped[bool] = mapped_column(default=False)
    callback_requested_at: Mapped[dt.datetime | None]
    handled: Mapped[bool] = mapped_column(default=False)
    handled_at: Mapped[dt.datetime | None]
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class SmsStatus(enum.StrEnum):
    pending = "pending"  # in the outbox, not handed to the provider yet
    queued = "queued"  # accepted by the provider (sid known)
    sent = "sent"
    delivered = "delivered"
    undelivered = "undelivered"
    failed = "failed"  # refused by the provider (permanent error) or reported failed
    skipped = "skipped"  # not sent: consent withdrawn, appointment no longer booked…


FAILED_STATUSES = (SmsStatus.failed, SmsStatus.undelivered)


class SmsKind(enum.StrEnum):
    booking_confirmation = "booking_confirmation"
    change_notice = "change_notice"
    cancellation_notice = "cancellation_notice"
    cancel_confirmation = "cancel_confirmation"
    arrival_window = "arrival_window"
    reminder = "reminder"
    cancel_not_found = "cancel_not_found"
    stop_confirmation = "stop_confirmation"
    start_confirmation = "start_confirmation"
    slot_offer = "slot_offer"  # a freed slot offered to a waiting patient (OUI/NON + code)
    slot_offer_answer = "slot_offer_answer"  # the slot was taken, NON noted, code unknown


class SmsMessage(TimestampMixin, Base):
    """One outbound SMS: what was said to whom, and what became of it."""

    __tablename__ = "sms_messages"
    __table_args__ = (Index("ix_sms_messages_status_requested", "status", "requested_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int | None] = mapped_column(
        ForeignKey("patients.id", ondelete="SET NULL"), index=True
    )
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[SmsKind] = mapped_column(Enum(SmsKind, native_enum=False, length=30))
    to_number: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    # The outbox idempotency key: one SMS per appointment event, whatever the retries.
    outbox_key: Mapped[str] = mapped_column(String(200), unique=True)
    requested_at: Mapped[dt.datetime]
    sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[SmsStatus] = mapped_column(Enum(SmsStatus, native_enum=False, length=12))
    status_at: Mapped[dt.datetime | None]
    accepted_at: Mapped[dt.datetime | None]
    error_code: Mapped[int | None]
    error_message: Mapped[str | None] = mapped_column(String(300))
    # Failures are listed for the secretariat until someone calls the patient.
    handled: Mapped[bool] = mapped_column(default=False)
    handled_at: Mapped[dt.datetime | None]
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class InboundAction(enum.StrEnum):
    cancelled = "cancelled"  # ANNULER: the next appointment was cancelled
    no_appointment = "no_appointment"  # ANNULER but nothing to cancel
    opted_out = "opted_out"
    opted_in = "opted_in"
    unknown_number = "unknown_number"  # nobody has this number: shown, nothing done
    stored = "stored"  # a message for people to read
    offer_reply = "offer_reply"  # OUI/NON with a code: answered a freed-slot offer


class InboundSms(TimestampMixin, Base):
    """One SMS a patient (or anybody) sent to our number."""

    __tablename__ = "sms_inbound"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_number: Mapped[str] = mapped_column(String(32), index=True)
    to_number: Mapped[str | None] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(index=True)
    intent: Mapped[str] = mapped_column(String(20))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="SET NULL"))
    matched_patient_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    action: Mapped[InboundAction] = mapped_column(Enum(InboundAction, native_enum=False, length=20))
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL")
    )
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    handled: Mapped[bool] = mapped_column(default=False)
    handled_at: Mapped[dt.datetime | None]
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class CancelLinkUse(Base):
    """A cancellation link that was used: its nonce can never cancel again."""

    __tablename__ = "sms_cancel_link_uses"
    __table_args__ = (UniqueConstraint("appointment_id", "nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), index=True
    )
    nonce: Mapped[str] = mapped_column(String(16))
    used_at: Mapped[dt.datetime]


class SmsOptOut(Base):
    """A number that answered STOP: nothing is sent to it until START."""

    __tablename__ = "sms_opt_outs"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(32), unique=True)
    opted_out_at: Mapped[dt.datetime]
    # The patients whose consent was withdrawn by that STOP.
    patient_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    inbound_id: Mapped[int | None] = mapped_column(
        ForeignKey("sms_inbound.id", ondelete="SET NULL")
    )
