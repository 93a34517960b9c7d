"""Solver runs of the morning rounds and the routes each run published."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, TimestampMixin


class RunStatus(enum.StrEnum):
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class RunTrigger(enum.StrEnum):
    optimise = "optimise"  # the coordinator asked
    scheduled = "scheduled"  # the worker, before the session
    booking = "booking"  # a home visit was booked through a proposal
    cancellation = "cancellation"  # a home visit was cancelled (the worker re-plans)
    delay = "delay"  # a GP reported a delay


class RoundRun(TimestampMixin, Base):
    """One solver run for one day; the latest succeeded run is the plan in force."""

    __tablename__ = "round_runs"
    __table_args__ = (Index("ix_round_runs_date_status", "date", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    date: Mapped[dt.date]
    trigger: Mapped[RunTrigger] = mapped_column(Enum(RunTrigger, native_enum=False, length=15))
    status: Mapped[RunStatus] = mapped_column(Enum(RunStatus, native_enum=False, length=10))
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    time_limit_s: Mapped[float]
    seed: Mapped[int]
    travel_provider: Mapped[str] = mapped_column(String(20))
    # What the solver saw (to skip a run when nothing changed) and what it found.
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    objective: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    stopped_by: Mapped[str | None] = mapped_column(String(20))
    # Minutes of delay per practitioner id (str), carried into later runs of the day.
    delays: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # [{appointment_id, urgency, reason, text}]
    dropped: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Appointment ids whose promised window cannot be kept any more.
    renegotiate: Mapped[list[int]] = mapped_column(JSON, default=list)
    # Appointment ids whose window this run narrowed inside the promise.
    narrowed: Mapped[list[int]] = mapped_column(JSON, default=list)
    summary: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)


class RoundRoute(TimestampMixin, Base):
    """One GP's ordered round as published by a run."""

    __tablename__ = "round_routes"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("round_runs.id", ondelete="CASCADE"), index=True)
    date: Mapped[dt.date] = mapped_column(index=True)
    practitioner_id: Mapped[int] = mapped_column(
        ForeignKey("practitioners.id", ondelete="CASCADE"), index=True
    )
    depart_at: Mapped[dt.datetime]
    back_at: Mapped[dt.datetime]
    travel_minutes: Mapped[float]
    # [{order, appointment_id, planned_arrival, window_start, window_end, travel_minutes}]
    stops: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class ReplanRequest(Base):
    """A day whose rounds changed by insertion (a booking): the worker re-plans it later.

    One row per day (debounce: a burst of bookings of one morning → one run);
    ``requested_at`` is the last booking's time, ``first_at`` the oldest waiting one.
    """

    __tablename__ = "round_replan_requests"

    date: Mapped[dt.date] = mapped_column(primary_key=True)
    first_at: Mapped[dt.datetime]
    requested_at: Mapped[dt.datetime]
    # The last change that marked the day (RunTrigger.booking or .cancellation): the
    # worker's run is recorded under it, so the run list says why the morning moved.
    cause: Mapped[str] = mapped_column(String(16), server_default="booking")


class ProposalHold(Base):
    """An option shown to a caller, held for their request for a short time.

    Other callers' proposals avoid it (another GP, window or slot); the holder's booking
    of it is never refused because of another caller's hold. It expires by itself.
    """

    __tablename__ = "proposal_holds"
    __table_args__ = (Index("ix_proposal_holds_date_expires", "date", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The holder: a request (secretariat, API), or a regulator on the SAS page before any
    # request exists (app/sas/pages.py). Exactly one of the two is set.
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("care_requests.id", ondelete="CASCADE"), index=True
    )
    regulator_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioners.id", ondelete="CASCADE"))
    date: Mapped[dt.date]
    kind: Mapped[str] = mapped_column(String(20))
    start_at: Mapped[dt.datetime]
    end_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
