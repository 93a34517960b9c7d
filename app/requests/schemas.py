"""Request (demande) payloads."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from app.core.timeutil import ParisDatetime
from app.practitioners.models import SessionKind
from app.requests.models import Channel, RequestStatus, Urgency
from app.requests.triage import RED_FLAGS


class RequestIn(BaseModel):
    patient_id: int
    channel: Channel = Channel.phone
    received_at: ParisDatetime | None = Field(default=None, description="par défaut : maintenant")
    reason: str = Field(min_length=1, max_length=2000)
    symptoms_since: str | None = Field(default=None, max_length=100)
    red_flags: list[str] = Field(default_factory=list)
    cannot_travel: bool = False
    referred_by_medecin_traitant: bool = Field(
        default=False,
        description="adressé par son médecin traitant (parcours coordonné : ouvre la MCG)",
    )
    urgency: Urgency | None = None
    modality: SessionKind | None = Field(default=None, description="force la modalité suggérée")
    visit_minutes: int | None = Field(default=None, ge=5, le=120)

    @field_validator("red_flags")
    @classmethod
    def _known_flags(cls, flags: list[str]) -> list[str]:
        unknown = [flag for flag in flags if flag not in RED_FLAGS]
        if unknown:
            raise ValueError(f"Signe d'alerte inconnu : {', '.join(unknown)}.")
        return sorted(set(flags))


class RequestStatusIn(BaseModel):
    status: RequestStatus
    note: str | None = Field(default=None, max_length=2000)


class RedFlagOut(BaseModel):
    code: str
    label: str


class RequestOut(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    patient_id: int
    channel: Channel
    received_at: ParisDatetime
    reason: str
    symptoms_since: str | None
    red_flags: list[str]
    cannot_travel: bool
    referred_by_medecin_traitant: bool = False
    urgency: Urgency | None
    deadline: ParisDatetime | None
    modality: SessionKind | None
    modality_suggested: SessionKind | None
    visit_minutes: int | None
    status: RequestStatus
    status_note: str | None
    handled_by_id: int | None


class TriageOut(BaseModel):
    redirected_15: bool
    message: str
    red_flags: list[RedFlagOut]
    urgency: Urgency | None
    deadline: ParisDatetime | None
    modality_suggested: SessionKind | None


class RequestCreated(BaseModel):
    request: RequestOut
    triage: TriageOut
