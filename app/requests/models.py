"""A *demande de soins non programmés*: one need for care, from intake to its outcome."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, TimestampMixin
from app.practitioners.models import SessionKind


class Channel(enum.StrEnum):
    phone = "phone"
    sas = "sas"
    web = "web"


class Urgency(enum.StrEnum):
    same_day = "same_day"
    within_24h = "within_24h"
    within_48h = "within_48h"


class RequestStatus(enum.StrEnum):
    new = "new"
    redirected_15 = "redirected_15"
    scheduled = "scheduled"
    advice_given = "advice_given"
    cancelled = "cancelled"
    unreachable = "unreachable"
    # Sent elsewhere than the 15 (3114, 116 117, pharmacist, nurse, emergency department).
    oriented = "oriented"
    # *Non pourvue*: nothing the platform can offer meets the need; said, never silently late.
    unfilled = "unfilled"


class Destination(enum.StrEnum):
    """Where the request ends: the platform, or the number/professional announced to the caller."""

    platform = "platform"
    samu_15 = "samu_15"
    suicide_3114 = "suicide_3114"
    pdsa_116117 = "pdsa_116117"
    pharmacist = "pharmacist"
    nurse = "nurse"
    emergency_department = "emergency_department"


class UrgencyDecidedBy(enum.StrEnum):
    """Who set the urgency: the secretary, the SAS regulator (a medical decision), the age rule."""

    secretariat = "secretariat"
    regulator = "regulator"
    age_rule = "age_rule"


class CareRequest(TimestampMixin, Base):
    __tablename__ = "care_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="RESTRICT"), index=True
    )
    channel: Mapped[Channel] = mapped_column(Enum(Channel, native_enum=False, length=10))
    received_at: Mapped[dt.datetime] = mapped_column(index=True)
    reason: Mapped[str] = mapped_column(Text)
    symptoms_since: Mapped[str | None] = mapped_column(String(100))
    red_flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    cannot_travel: Mapped[bool] = mapped_column(default=False)
    # Sent by the patient's own médecin traitant (the coordinated pathway: MCG, billing.py).
    referred_by_medecin_traitant: Mapped[bool] = mapped_column(default=False)
    urgency: Mapped[Urgency | None] = mapped_column(Enum(Urgency, native_enum=False, length=12))
    deadline: Mapped[dt.datetime | None]
    modality: Mapped[SessionKind | None] = mapped_column(
        Enum(SessionKind, native_enum=False, length=20)
    )
    modality_suggested: Mapped[SessionKind | None] = mapped_column(
        Enum(SessionKind, native_enum=False, length=20)
    )
    visit_minutes: Mapped[int | None]
    status: Mapped[RequestStatus] = mapped_column(
        Enum(RequestStatus, native_enum=False, length=15), index=True
    )
    status_changed_at: Mapped[dt.datetime]
    status_note: Mapped[str | None] = mapped_column(Text)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    urgency_decided_by: Mapped[UrgencyDecidedBy | None] = mapped_column(
        Enum(UrgencyDecidedBy, native_enum=False, length=12)
    )
    destination: Mapped[Destination | None] = mapped_column(
        Enum(Destination, native_enum=False, length=24), index=True
    )
    # Why the deadline moved past a closed day or the modality cannot meet it (French, shown).
    deadline_note: Mapped[str | None] = mapped_column(Text)
    # A teleconsultation under 3 months needs an explicit, recorded reason.
    teleconsultation_override_reason: Mapped[str | None] = mapped_column(Text)
