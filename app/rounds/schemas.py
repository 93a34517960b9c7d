"""Payloads of the rounds domain: proposals, bookings through them, published rounds."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field, model_validator

from app.appointments.schemas import AppointmentOut
from app.core.timeutil import ParisDatetime
from app.core.validation import check_window
from app.practitioners.models import SessionKind
from app.rounds.models import RunStatus, RunTrigger


class ProposalChoice(BaseModel):
    """The option chosen among the proposals (its ``booking`` field, posted back)."""

    practitioner_id: int
    kind: SessionKind
    start_at: ParisDatetime = Field(description="début du créneau, ou de la fenêtre d'arrivée")
    end_at: ParisDatetime
    deadline_override_reason: str | None = Field(default=None, max_length=500)
    confirm_same_day: bool = False  # see BookingIn.confirm_same_day

    @model_validator(mode="after")
    def _window(self) -> ProposalChoice:
        check_window(self.start_at, self.end_at)
        return self


class ProposalOut(BaseModel):
    practitioner_id: int
    practitioner_name: str
    date: dt.date
    kind: SessionKind
    start_at: ParisDatetime
    end_at: ParisDatetime
    planned_arrival: ParisDatetime | None = None
    added_travel_minutes: float = 0.0
    deadline_slack_minutes: int | None = Field(
        default=None, description="minutes entre la fin de l'option et l'échéance"
    )
    continuity: bool = False
    reason: str = Field(description="continuity | least_detour | earliest_slot")
    label: str
    why: str
    session_id: int
    booking: ProposalChoice


class ProposalsOut(BaseModel):
    request_id: int
    kind: SessionKind
    deadline: ParisDatetime | None
    options: list[ProposalOut]
    # More options at other times than the best ones (issue 22: a choice of times).
    other_times: list[ProposalOut] = []
    message: str | None = None


class RunOut(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    date: dt.date
    trigger: RunTrigger
    status: RunStatus
    started_at: ParisDatetime
    finished_at: ParisDatetime | None
    time_limit_s: float
    seed: int
    travel_provider: str
    objective: dict[str, Any]
    stopped_by: str | None
    delays: dict[str, int]
    dropped: list[dict[str, Any]]
    renegotiate: list[int]
    narrowed: list[int]
    summary: str | None
    error: str | None


class ProposalBookingOut(BaseModel):
    appointment: AppointmentOut
    label: str
    run: RunOut | None = Field(
        default=None, description="kept for compatibility: the worker re-plans the day afterwards"
    )


class StopOut(BaseModel):
    order: int
    appointment_id: int
    patient_id: int | None = None
    patient_name: str | None = None
    address: str | None = None
    commune: str | None = None
    planned_arrival: ParisDatetime
    window_start: ParisDatetime
    window_end: ParisDatetime
    promised_start: ParisDatetime | None = None
    promised_end: ParisDatetime | None = None
    travel_minutes: float


class RouteOut(BaseModel):
    practitioner_id: int
    practitioner_name: str
    depart_at: ParisDatetime
    back_at: ParisDatetime
    travel_minutes: float
    stops: list[StopOut]


class DayRoundsOut(BaseModel):
    date: dt.date
    run: RunOut | None
    routes: list[RouteOut]


class DelayIn(BaseModel):
    practitioner_id: int
    minutes: int = Field(ge=1, le=240, description="retard annoncé, cumulé sur la journée")


class RenegotiateOut(BaseModel):
    appointment_id: int
    patient_id: int
    patient_name: str
    phone: str | None
    promised_start: ParisDatetime
    promised_end: ParisDatetime
    planned_arrival: ParisDatetime | None
    new_window_start: ParisDatetime | None
    new_window_end: ParisDatetime | None


class DelayOut(BaseModel):
    run: RunOut
    renegotiate: list[RenegotiateOut]
