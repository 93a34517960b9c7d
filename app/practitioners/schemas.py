"""Practitioner and session payloads (API field names in English)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field, field_validator, model_validator

from app.core.identifiers import normalise_phone, normalise_rpps
from app.core.timeutil import ParisDatetime
from app.practitioners.models import PractitionerStatus, SessionKind


class PractitionerIn(BaseModel):
    family_name: str = Field(min_length=1, max_length=100)
    given_name: str = Field(min_length=1, max_length=100)
    rpps: str | None = Field(default=None, description="11 chiffres")
    idnps: str | None = Field(default=None, description="8 + RPPS")
    status: PractitionerStatus = PractitionerStatus.titular
    titular_id: int | None = None
    authorisation_start: dt.date | None = None
    authorisation_end: dt.date | None = None
    address: str = Field(min_length=1, max_length=200)
    postal_code: str = Field(pattern=r"^[0-9]{5}$")
    commune: str = Field(min_length=1, max_length=100)
    commune_insee: str | None = Field(default=None, pattern=r"^[0-9]{2}[0-9AB][0-9]{2}$")
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    phone: str | None = None
    languages: list[str] = Field(default_factory=lambda: ["fr"])
    accepts_new_patients: bool = False
    new_patient_capacity: int = Field(default=0, ge=0)
    max_visits_per_morning: int = Field(default=6, ge=0, le=30)
    teleconsultation_slot_minutes: int = Field(default=15, ge=5, le=60)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalise_phone(value) if value else None

    @model_validator(mode="after")
    def _identity_and_adjoint(self) -> PractitionerIn:
        raw = self.rpps or self.idnps
        if not raw:
            raise ValueError("Le numéro RPPS (ou IDNPS) est obligatoire.")
        self.rpps = normalise_rpps(raw)
        if self.idnps and normalise_rpps(self.idnps) != self.rpps:
            raise ValueError("L'IDNPS doit être « 8 » suivi du RPPS.")
        if self.status == PractitionerStatus.adjoint:
            if self.titular_id is None:
                raise ValueError("Un médecin adjoint doit être rattaché à un médecin titulaire.")
            if not (self.authorisation_start and self.authorisation_end):
                raise ValueError(
                    "Les dates d'autorisation de l'adjoint (début et fin) sont requises."
                )
            if self.authorisation_end < self.authorisation_start:
                raise ValueError("La fin d'autorisation précède son début.")
        elif self.titular_id is not None:
            raise ValueError("Seul un médecin adjoint est rattaché à un titulaire.")
        self.languages = sorted({lang.strip().lower() for lang in self.languages if lang.strip()})
        return self


class PractitionerOut(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    family_name: str
    given_name: str
    display_name: str
    rpps: str
    idnps: str
    status: PractitionerStatus
    titular_id: int | None
    authorisation_start: dt.date | None
    authorisation_end: dt.date | None
    address: str
    postal_code: str
    commune: str
    commune_insee: str | None
    latitude: float
    longitude: float
    phone: str | None
    languages: list[str]
    accepts_new_patients: bool
    new_patient_capacity: int
    max_visits_per_morning: int
    teleconsultation_slot_minutes: int
    active: bool
    warnings: list[str] = Field(default_factory=list)


def _check_times(start: dt.time, end: dt.time) -> None:
    if end <= start:
        raise ValueError("L'heure de fin doit suivre l'heure de début.")


class SessionTemplateIn(BaseModel):
    weekday: int = Field(ge=0, le=6, description="0 = lundi … 6 = dimanche")
    kind: SessionKind
    start_time: dt.time
    end_time: dt.time
    capacity: int | None = Field(default=None, ge=1, le=200)
    open_to_sas: bool = False
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None

    @model_validator(mode="after")
    def _times(self) -> SessionTemplateIn:
        _check_times(self.start_time, self.end_time)
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError("La fin de validité précède son début.")
        return self


class SessionTemplateOut(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    practitioner_id: int
    weekday: int
    kind: SessionKind
    start_time: dt.time
    end_time: dt.time
    capacity: int
    open_to_sas: bool
    valid_from: dt.date
    valid_until: dt.date | None


class SessionIn(BaseModel):
    """A one-off session on a date (local times, Europe/Paris)."""

    date: dt.date
    kind: SessionKind
    start_time: dt.time
    end_time: dt.time
    capacity: int | None = Field(default=None, ge=1, le=200)
    open_to_sas: bool = False

    @model_validator(mode="after")
    def _times(self) -> SessionIn:
        _check_times(self.start_time, self.end_time)
        return self


class SessionOut(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    practitioner_id: int
    template_id: int | None
    date: dt.date
    kind: SessionKind
    start_at: ParisDatetime
    end_at: ParisDatetime
    capacity: int
    open_to_sas: bool
    cancelled: bool


class AbsenceIn(BaseModel):
    start_at: ParisDatetime
    end_at: ParisDatetime
    reason: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _order(self) -> AbsenceIn:
        if self.end_at <= self.start_at:
            raise ValueError("La fin de l'absence doit suivre son début.")
        return self


class AbsenceOut(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    practitioner_id: int
    start_at: ParisDatetime
    end_at: ParisDatetime
    reason: str
