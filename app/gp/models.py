"""GP side of the platform: calendar feeds, recorded outcomes, calendar revisions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, TimestampMixin


class IcalFeed(TimestampMixin, Base):
    """A private calendar URL of one practitioner; only the token's hash is stored."""

    __tablename__ = "gp_ical_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(
        ForeignKey("practitioners.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, so the GP can tell two feeds apart.
    token_hint: Mapped[str] = mapped_column(String(8))
    label: Mapped[str] = mapped_column(String(100), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]


class VisitOutcome(TimestampMixin, Base):
    """What the GP recorded after an appointment: seen or not, the act billed, orientation."""

    __tablename__ = "gp_outcomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), unique=True
    )
    practitioner_id: Mapped[int] = mapped_column(
        ForeignKey("practitioners.id", ondelete="RESTRICT"), index=True
    )
    # The adjoint bills under the titular's arrangements: the titular's id here.
    billed_under_id: Mapped[int] = mapped_column(
        ForeignKey("practitioners.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(12))
    care_at: Mapped[dt.datetime]
    act_code: Mapped[str | None] = mapped_column(String(10))
    surcharges: Mapped[list[str]] = mapped_column(JSON, default=list)
    total: Mapped[str] = mapped_column(String(12), default="0")
    reasons: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    wants_medecin_traitant_help: Mapped[bool | None]
    orientation_case_id: Mapped[int | None]
    note: Mapped[str | None] = mapped_column(String(500))
    # A teleconsultation done without video (phone only) is not a TCG (billing.py).
    video: Mapped[bool | None]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[dt.datetime]


class CalendarRevision(Base):
    """How many times an appointment changed: the iCalendar SEQUENCE of its event."""

    __tablename__ = "gp_calendar_revisions"

    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), primary_key=True
    )
    sequence: Mapped[int] = mapped_column(default=0)
    changed_at: Mapped[dt.datetime]


class CalendarDeparture(Base):
    """An appointment moved to another GP: the first GP's feed shows it cancelled."""

    __tablename__ = "gp_calendar_departures"
    __table_args__ = (UniqueConstraint("appointment_id", "practitioner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), index=True
    )
    practitioner_id: Mapped[int] = mapped_column(
        ForeignKey("practitioners.id", ondelete="CASCADE"), index=True
    )
    start_at: Mapped[dt.datetime]
    end_at: Mapped[dt.datetime]
    sequence: Mapped[int]
    left_at: Mapped[dt.datetime]
