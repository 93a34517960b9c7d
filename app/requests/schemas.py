"""Request (demande) payloads."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from app.core.timeutil import ParisDatetime
from app.practitioners.models import SessionKind
from app.requests.models import Channel, Destination, RequestStatus, Urgency, UrgencyDecidedBy
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
    suicidal_immediate_danger: bool | None = Field(
        default=None,
        description="idées suicidaires : false = sans danger immédiat → 3114 ; sinon → 15",
    )
    destination: Destination | None = Field(
        default=None, description="orientation ailleurs que la plateforme (3114, pharmacien…)"
    )
    teleconsultation_override_reason: str | None = Field(
        default=None,
        min_length=3,
        max_length=500,
        description="motif d'une téléconsultation avant 3 mois (sinon refusée)",
    )

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
    destination: Destination | None = Field(
        default=None, description="pour « oriented » : où la demande a été orientée"
    )


class RedFlagOut(BaseModel):
    code: str
    label: str


class OfferOut(BaseModel):
    """What the platform can promise for this request (best first)."""

    kind: str
    modality: SessionKind | None
    by: ParisDatetime | None
    within_deadline: bool
    note: str
    destination: Destination | None


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
    urgency_decided_by: UrgencyDecidedBy | None = None
    destination: Destination | None = None
    deadline_note: str | None = None
    teleconsultation_override_reason: str | None = None


class TriageOut(BaseModel):
    redirected_15: bool
    message: str
    red_flags: list[RedFlagOut]
    urgency: Urgency | None
    deadline: ParisDatetime | None
    modality_suggested: SessionKind | None
    destination: Destination
    urgency_decided_by: UrgencyDecidedBy | None
    deadline_note: str | None
    offers: list[OfferOut]
    prompts: list[str] = Field(description="signes d'alerte du nourrisson à demander d'abord")


class RequestCreated(BaseModel):
    request: RequestOut
    triage: TriageOut
