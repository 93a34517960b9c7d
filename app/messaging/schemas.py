"""What the secretariat reads about calls and SMS (JSON API and web pages alike)."""

from __future__ import annotations

from pydantic import BaseModel

from app.core.timeutil import ParisDatetime


class PatientRef(BaseModel):
    id: int
    name: str


class CallOut(BaseModel):
    """One call on the public line, the caller matched to known patients by phone."""

    id: int
    call_sid: str
    started_at: ParisDatetime
    from_number: str | None
    to_number: str | None
    status: str
    status_label: str
    outcome: str
    duration_seconds: int | None
    callback_requested: bool
    callback_requested_at: ParisDatetime | None
    handled: bool
    handled_at: ParisDatetime | None
    matched_patients: list[PatientRef]
    # The caller when exactly one patient has this number (else None: several or none).
    patient_id: int | None
    patient_name: str | None


class SmsOut(BaseModel):
    """One SMS we sent (or tried to), with what became of it."""

    id: int
    patient_id: int | None
    patient_name: str | None = None
    appointment_id: int | None
    kind: str
    to_number: str
    body: str
    status: str
    status_at: ParisDatetime | None
    requested_at: ParisDatetime
    accepted_at: ParisDatetime | None
    sid: str | None
    error_code: int | None
    error: str | None
    handled: bool


class InboundOut(BaseModel):
    """One SMS received, what it asked and what the platform did."""

    id: int
    message_sid: str
    received_at: ParisDatetime
    from_number: str
    body: str
    intent: str
    action: str
    action_label: str
    patient_id: int | None
    patient_name: str | None
    matched_patients: list[PatientRef]
    appointment_id: int | None
    handled: bool
