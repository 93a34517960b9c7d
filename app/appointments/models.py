"""Appointments: a request served by a GP at a time, with its origin and billing."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, TimestampMixin
from app.practitioners.models import SessionKind


class AppointmentStatus(enum.StrEnum):
    booked = "booked"
    fulfilled = "fulfilled"
    noshow = "noshow"
    cancelled = "cancelled"


class Origin(enum.StrEnum):
    secretariat = "secretariat"
    sas = "sas"


# Statuses that hold the practitioner's time.
ACTIVE_STATUSES = (AppointmentStatus.booked, AppointmentStatus.fulfilled, AppointmentStatus.noshow)


class Appointment(TimestampMixin, Base):
    __tablename__ = "appointments"
    __table_args__ = (
        Index("ix_appointments_practitioner_start", "practitioner_id", "start_at"),
        # The same slot cannot be held twice for a timed appointment (SQLite and PostgreSQL);
        # PostgreSQL also gets an exclusion constraint on overlapping ranges (migration).
        Index(
            "uq_appointments_timed_slot",
            "practitioner_id",
            "start_at",
            unique=True,
            sqlite_where=text("status <> 'cancelled' AND kind <> 'home_visit'"),
            postgresql_where=text("status <> 'cancelled' AND kind <> 'home_visit'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("care_requests.id", ondelete="RESTRICT"), index=True
    )
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="RESTRICT"), index=True
    )
    practitioner_id: Mapped[int] = mapped_column(
        ForeignKey("practitioners.id", ondelete="RESTRICT")
    )
    session_id: Mapped[int] = mapped_column(
        ForeignKey("duty_sessions.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[SessionKind] = mapped_column(Enum(SessionKind, native_enum=False, length=20))
    # For a home visit, start/end are the arrival window promised to the patient.
    start_at: Mapped[dt.datetime]
    end_at: Mapped[dt.datetime]
    planned_arrival: Mapped[dt.datetime | None]
    route_order: Mapped[int | None]
    visit_minutes: Mapped[int | None]
    status: Mapped[AppointmentStatus] = mapped_column(
        Enum(AppointmentStatus, native_enum=False, length=12), index=True
    )
    origin: Mapped[Origin] = mapped_column(Enum(Origin, native_enum=False, length=12))
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sas_regulator_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    sas_referral_at: Mapped[dt.datetime | None]
    sas_identifier: Mapped[str | None] = mapped_column(String(64), unique=True)
    deadline_override_reason: Mapped[str | None] = mapped_column(String(500))
    # Billing: the act and surcharges, with the rule that made each (tariff table).
    act_code: Mapped[str | None] = mapped_column(String(10))
    surcharges: Mapped[list[str]] = mapped_column(JSON, default=list)
    billing_detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    billed_under_id: Mapped[int | None] = mapped_column(
        ForeignKey("practitioners.id", ondelete="SET NULL")
    )
    teleconsultation_exception: Mapped[str | None] = mapped_column(String(100))
    # The video room of a teleconsultation (app/appointments/video.py); None: no video.
    video_url: Mapped[str | None] = mapped_column(String(500))
    cancelled_at: Mapped[dt.datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    cancelled_by_patient: Mapped[bool] = mapped_column(default=False)
    status_changed_at: Mapped[dt.datetime]


class BillingSetting(Base):
    """The coordinator's billing choices (one row, id 1), changed on /equipe."""

    __tablename__ = "billing_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The seed's wish: an MCG on every platform act of a patient who has a médecin traitant,
    # even without a referral by them. Off by default (billing.py says why).
    mcg_on_every_platform_act: Mapped[bool] = mapped_column(default=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[dt.datetime | None]
