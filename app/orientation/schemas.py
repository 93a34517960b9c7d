"""Orientation payloads: territory GPs, cases, answers, batch results."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator, model_validator

from app.core.timeutil import ParisDatetime
from app.core.validation import refuse_nulls
from app.orientation.models import CaseStatus, CloseReason, Consent, Route


class TerritoryGPIn(BaseModel):
    family_name: str = Field(min_length=1, max_length=100)
    given_name: str = Field(min_length=1, max_length=100)
    rpps: str = Field(pattern=r"^[0-9]{11}$", description="RPPS, 11 chiffres")
    address: str = Field(min_length=1, max_length=200)
    postal_code: str = Field(pattern=r"^[0-9]{5}$")
    commune: str = Field(min_length=1, max_length=100)
    commune_insee: str | None = Field(default=None, pattern=r"^[0-9]{2}[0-9AB][0-9]{2}$")
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    phone: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=200)
    languages: list[str] = Field(default_factory=lambda: ["fr"])
    communes_covered: list[str] = Field(
        default_factory=list, description="Codes INSEE couverts ; vide = tout le territoire"
    )
    monthly_capacity: int = Field(default=0, ge=0, le=500)
    accepts_new_patients: bool = True

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        return sorted({v.strip().lower() for v in value if v.strip()}) or ["fr"]


class TerritoryGPUpdate(BaseModel):
    """A partial update: the lists and flags may be left out, never set to null."""

    monthly_capacity: int | None = Field(default=None, ge=0, le=500)
    accepts_new_patients: bool | None = None
    communes_covered: list[str] | None = None
    languages: list[str] | None = None
    phone: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=200)
    active: bool | None = None

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        return sorted({v.strip().lower() for v in value if v.strip()}) or ["fr"]

    @model_validator(mode="after")
    def _required_stay_set(self) -> TerritoryGPUpdate:
        refuse_nulls(
            self,
            (
                "monthly_capacity",
                "accepts_new_patients",
                "communes_covered",
                "languages",
                "active",
            ),
        )
        return self


class TerritoryGPOut(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    family_name: str
    given_name: str
    rpps: str
    address: str
    postal_code: str
    commune: str
    commune_insee: str | None
    latitude: float
    longitude: float
    phone: str | None
    email: str | None
    languages: list[str]
    communes_covered: list[str]
    monthly_capacity: int
    accepts_new_patients: bool
    active: bool


class GPRef(BaseModel):
    """A GP that can be proposed: ``platform`` titular or ``territory`` GP."""

    kind: str
    id: int
    name: str
    commune: str
    capacity: int
    remaining: int
    languages: list[str]


class CaseOut(BaseModel):
    id: int
    patient_id: int
    patient_name: str
    patient_phone: str | None
    commune: str | None
    commune_insee: str | None
    language: str
    vulnerability: list[str]
    # medecin_traitant (the batch proposes a GP) or pass_ccas (AME / no coverage).
    route: Route
    status: CaseStatus
    status_label: str
    consent: Consent
    entered_at: ParisDatetime
    waiting_days: int
    proposed_gp: str | None
    proposed_gp_kind: str | None
    proposed_gp_id: int | None
    proposed_at: ParisDatetime | None
    proposal_explanation: str | None
    unmatched_reason: str | None
    close_reason: CloseReason | None
    status_changed_at: ParisDatetime


class EventOut(BaseModel):
    model_config = {"from_attributes": True}

    at: ParisDatetime
    actor_name: str
    from_status: str | None
    to_status: str
    practitioner_id: int | None
    territory_gp_id: int | None
    note: str | None


class ConsentIn(BaseModel):
    given: bool


class ProposeIn(BaseModel):
    """A manual proposal of one GP (the batch does it for everybody)."""

    practitioner_id: int | None = None
    territory_gp_id: int | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ProposeIn:
        if (self.practitioner_id is None) == (self.territory_gp_id is None):
            raise ValueError(
                "Indiquez soit un médecin de la plateforme, soit un médecin du territoire."
            )
        return self


class AnswerIn(BaseModel):
    accepted: bool
    note: str | None = Field(default=None, max_length=500)


class CloseIn(BaseModel):
    reason: CloseReason
    note: str | None = Field(default=None, max_length=500)


class UnmatchedOut(BaseModel):
    case_id: int
    reason: str
    code: str


class BatchOut(BaseModel):
    batch_id: int
    waiting: int
    proposed: int
    unmatched: int
    capacity_total: int
    capacity_used: float
    solve_ms: int
    unmatched_by_reason: dict[str, int]
    unmatched_cases: list[UnmatchedOut]
