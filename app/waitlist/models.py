"""The waiting list and freed slots offered back: who waits, what freed up, who was offered it.

A request with no acceptable option waits here (with the patient's consent to be
texted or called back) until booked, cancelled, or its deadline passes (→ *non
pourvue*). Capacity that frees up (a cancellation, an absence, a no-show) becomes a
:class:`FreedSlot`; each proposal of it to a waiting patient is a :class:`SlotOffer`
(by SMS with a reply code, or on the secretariat's call list).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, TimestampMixin
from app.practitioners.models import SessionKind


class EntryStatus(enum.StrEnum):
    waiting = "waiting"
    booked = "booked"  # left the list with an appointment
    expired = "expired"  # deadline passed: the request is *non pourvue*
    cancelled = "cancelled"  # taken off the list (by the secretariat or the request closing)


class FreedSource(enum.StrEnum):
    cancel_sms = "cancel_sms"  # the patient's ANNULER or the cancellation link
    cancel_patient = "cancel_patient"  # the patient on the phone
    cancel_platform = "cancel_platform"  # secretariat, GP absence that could not be reassigned
    noshow = "noshow"
    session_opened = "session_opened"  # a new session opened by the coordinator
    moved = "moved"  # an appointment moved elsewhere: its old place is free


class SlotStatus(enum.StrEnum):
    open = "open"  # looking for a taker
    refilled = "refilled"
    lost = "lost"  # its start passed (or nobody fitted) without a taker


class OfferChannel(enum.StrEnum):
    sms = "sms"
    call = "call"  # secretariat's call list (no SMS consent)


class OfferStatus(enum.StrEnum):
    pending = "pending"  # waiting for OUI/NON until expires_at
    accepted = "accepted"  # OUI: booked
    declined = "declined"  # NON
    expired = "expired"  # silence: passed to the next
    taken = "taken"  # OUI too late: the slot went to someone else (told politely)
    withdrawn = "withdrawn"  # the slot was refilled another way, or the entry left the list


class WaitlistEntry(TimestampMixin, Base):
    __tablename__ = "waitlist_entries"
    __table_args__ = (Index("ix_waitlist_entries_status_deadline", "status", "deadline"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("care_requests.id", ondelete="CASCADE"), index=True
    )
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    modality: Mapped[SessionKind] = mapped_column(Enum(SessionKind, native_enum=False, length=20))
    deadline: Mapped[dt.datetime]
    preferred_practitioner_id: Mapped[int | None] = mapped_column(
        ForeignKey("practitioners.id", ondelete="SET NULL")
    )
    preferred_commune_insee: Mapped[str | None] = mapped_column(String(5))
    # When the patient can be reached (free text the secretary reads before calling).
    reachable: Mapped[str | None] = mapped_column(String(200))
    # Consent recorded when put on the list (CNIL: a purpose, said to the patient).
    consent_sms: Mapped[bool] = mapped_column(default=False)
    consent_call: Mapped[bool] = mapped_column(default=True)
    status: Mapped[EntryStatus] = mapped_column(
        Enum(EntryStatus, native_enum=False, length=12), index=True
    )
    added_at: Mapped[dt.datetime]
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    left_at: Mapped[dt.datetime | None]
    left_note: Mapped[str | None] = mapped_column(Text)
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL")
    )


class FreedSlot(TimestampMixin, Base):
    __tablename__ = "waitlist_freed_slots"
    __table_args__ = (UniqueConstraint("source_key", name="uq_waitlist_freed_slots_source_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(
        ForeignKey("practitioners.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[SessionKind] = mapped_column(Enum(SessionKind, native_enum=False, length=20))
    start_at: Mapped[dt.datetime]
    end_at: Mapped[dt.datetime]
    source: Mapped[FreedSource] = mapped_column(Enum(FreedSource, native_enum=False, length=16))
    # What freed it ("cancel:<appointment id>"): one freed slot per cause, whatever retries.
    source_key: Mapped[str] = mapped_column(String(60))
    freed_appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL")
    )
    freed_at: Mapped[dt.datetime] = mapped_column(index=True)
    status: Mapped[SlotStatus] = mapped_column(
        Enum(SlotStatus, native_enum=False, length=10), index=True
    )
    refilled_at: Mapped[dt.datetime | None]
    refilled_appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL")
    )


class SlotOffer(TimestampMixin, Base):
    __tablename__ = "waitlist_offers"
    __table_args__ = (
        UniqueConstraint("freed_slot_id", "entry_id", name="uq_waitlist_offers_slot_entry"),
        Index("ix_waitlist_offers_status_expires", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    freed_slot_id: Mapped[int] = mapped_column(
        ForeignKey("waitlist_freed_slots.id", ondelete="CASCADE"), index=True
    )
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("waitlist_entries.id", ondelete="CASCADE"), index=True
    )
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    channel: Mapped[OfferChannel] = mapped_column(Enum(OfferChannel, native_enum=False, length=8))
    code: Mapped[str] = mapped_column(String(8))
    rank: Mapped[int]
    # The window offered (a home visit's fits the GP's round; a slot is the freed one).
    start_at: Mapped[dt.datetime]
    end_at: Mapped[dt.datetime]
    offered_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    status: Mapped[OfferStatus] = mapped_column(Enum(OfferStatus, native_enum=False, length=10))
    answered_at: Mapped[dt.datetime | None]
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL")
    )
