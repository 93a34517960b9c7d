"""The waiting list's API shapes."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from app.practitioners.models import SessionKind
from app.waitlist.models import EntryStatus, OfferChannel, OfferStatus, SlotStatus


class EntryCreate(BaseModel):
    request_id: int = Field(ge=1, le=2**31 - 1)
    consent_sms: bool = Field(description="le patient accepte qu'on lui propose un créneau par SMS")
    consent_call: bool = Field(default=True, description="le patient accepte d'être rappelé")
    preferred_practitioner_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    preferred_commune_insee: str | None = Field(default=None, pattern=r"^[0-9][0-9AB][0-9]{3}$")
    reachable: str | None = Field(default=None, max_length=200)


class EntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    request_id: int
    patient_id: int
    modality: SessionKind
    deadline: dt.datetime
    preferred_practitioner_id: int | None
    preferred_commune_insee: str | None
    reachable: str | None
    consent_sms: bool
    consent_call: bool
    status: EntryStatus
    added_at: dt.datetime
    left_at: dt.datetime | None
    left_note: str | None
    appointment_id: int | None


class OfferOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    entry_id: int
    patient_id: int
    channel: OfferChannel
    rank: int
    start_at: dt.datetime
    end_at: dt.datetime
    offered_at: dt.datetime
    expires_at: dt.datetime
    status: OfferStatus
    answered_at: dt.datetime | None
    appointment_id: int | None


class SlotOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    practitioner_id: int
    kind: SessionKind
    start_at: dt.datetime
    end_at: dt.datetime
    source: str
    freed_at: dt.datetime
    status: SlotStatus
    refilled_at: dt.datetime | None
    refilled_appointment_id: int | None
    offers: list[OfferOut] = []


class CallBookingIn(BaseModel):
    entry_id: int = Field(ge=1, le=2**31 - 1)
