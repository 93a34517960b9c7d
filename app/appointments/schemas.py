"""Appointment payloads."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from app.appointments.models import AppointmentStatus, Origin
from app.core.timeutil import ParisDatetime
from app.core.validation import check_window
from app.practitioners.models import SessionKind


class BookingIn(BaseModel):
    request_id: int
    practitioner_id: int
    start_at: ParisDatetime = Field(description="début du créneau, ou de la fenêtre d'arrivée")
    end_at: ParisDatetime | None = Field(default=None, description="par défaut selon la modalité")
    kind: SessionKind | None = Field(
        default=None, description="par défaut : modalité de la demande"
    )
    deadline_override_reason: str | None = Field(
        default=None, max_length=500, description="motif obligatoire pour réserver après l'échéance"
    )
    confirm_same_day: bool = Field(
        default=False,
        description="déjà un rendez-vous ce jour-là (ou qui chevauche) : réserver quand même",
    )

    @model_validator(mode="after")
    def _window(self) -> BookingIn:
        check_window(self.start_at, self.end_at)
        return self


class CancelIn(BaseModel):
    reason: str = Field(default="", max_length=500)
    by_patient: bool = False


class RescheduleIn(BaseModel):
    start_at: ParisDatetime
    end_at: ParisDatetime | None = None
    practitioner_id: int | None = None
    deadline_override_reason: str | None = Field(default=None, max_length=500)
    confirm_same_day: bool = Field(
        default=False,
        description="déjà un autre rendez-vous ce jour-là (ou qui chevauche) : déplacer quand même",
    )

    @model_validator(mode="after")
    def _window(self) -> RescheduleIn:
        check_window(self.start_at, self.end_at)
        return self


class StatusIn(BaseModel):
    status: AppointmentStatus


class AppointmentOut(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    request_id: int
    patient_id: int
    practitioner_id: int
    session_id: int
    kind: SessionKind
    start_at: ParisDatetime
    end_at: ParisDatetime
    planned_arrival: ParisDatetime | None
    route_order: int | None
    status: AppointmentStatus
    origin: Origin
    booked_by_id: int | None
    deadline_override_reason: str | None
    act_code: str | None
    surcharges: list[str]
    billed_under_id: int | None
    teleconsultation_exception: str | None
    cancel_reason: str | None
    cancelled_by_patient: bool


class FreeSlotOut(BaseModel):
    practitioner_id: int
    session_id: int
    kind: SessionKind
    start_at: ParisDatetime
    end_at: ParisDatetime
    open_to_sas: bool
