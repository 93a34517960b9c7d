"""Patient payloads; identifiers are validated here so nothing invalid reaches the service."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field, field_validator, model_validator

from app.core.identifiers import normalise_nir, normalise_phone
from app.core.validation import refuse_nulls
from app.patients.models import MedecinTraitantStatus, Sex


class PatientIn(BaseModel):
    family_name: str = Field(min_length=1, max_length=100)
    given_name: str = Field(min_length=1, max_length=100)
    birth_date: dt.date
    sex: Sex = Sex.unknown
    nir: str | None = None
    phone: str | None = None
    address: str | None = Field(default=None, max_length=200)
    postal_code: str | None = Field(default=None, pattern=r"^[0-9]{5}$")
    commune: str | None = Field(default=None, max_length=100)
    commune_insee: str | None = Field(default=None, pattern=r"^[0-9]{2}[0-9AB][0-9]{2}$")
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    medecin_traitant_status: MedecinTraitantStatus = MedecinTraitantStatus.unknown
    medecin_traitant_name: str | None = Field(default=None, max_length=200)
    ald: bool = False
    css: bool = False
    reduced_mobility: bool = False
    isolation: bool = False
    disability: bool = False
    language: str = Field(default="fr", min_length=2, max_length=10)
    sms_consent: bool = False
    confirm_duplicate: bool = Field(
        default=False, description="Créer malgré un doublon probable signalé auparavant"
    )

    @field_validator("birth_date")
    @classmethod
    def _birth_date(cls, value: dt.date) -> dt.date:
        today = dt.date.today()
        if value > today:
            raise ValueError("La date de naissance ne peut pas être dans le futur.")
        if value.year < today.year - 130:
            raise ValueError("La date de naissance est trop ancienne.")
        return value

    @field_validator("nir")
    @classmethod
    def _nir(cls, value: str | None) -> str | None:
        return normalise_nir(value) if value else None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalise_phone(value) if value else None

    @field_validator("family_name", "given_name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("Ce champ ne peut pas être vide.")
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        return value.strip().lower()


# Columns a patient always has: an update may leave them out, never clear them.
_UPDATE_NOT_NULL = (
    "medecin_traitant_status",
    "ald",
    "css",
    "reduced_mobility",
    "isolation",
    "disability",
    "language",
    "sms_consent",
)


class PatientUpdate(BaseModel):
    """A partial update, checked like a creation (same bounds; required fields stay set)."""

    phone: str | None = None
    address: str | None = Field(default=None, max_length=200)
    postal_code: str | None = Field(default=None, pattern=r"^[0-9]{5}$")
    commune: str | None = Field(default=None, max_length=100)
    commune_insee: str | None = Field(default=None, pattern=r"^[0-9]{2}[0-9AB][0-9]{2}$")
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    medecin_traitant_status: MedecinTraitantStatus | None = None
    medecin_traitant_name: str | None = Field(default=None, max_length=200)
    ald: bool | None = None
    css: bool | None = None
    reduced_mobility: bool | None = None
    isolation: bool | None = None
    disability: bool | None = None
    language: str | None = Field(default=None, min_length=2, max_length=10)
    sms_consent: bool | None = None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalise_phone(value) if value else None

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        return value.strip().lower() if value is not None else None

    @model_validator(mode="after")
    def _required_stay_set(self) -> PatientUpdate:
        refuse_nulls(self, _UPDATE_NOT_NULL)
        return self


class PatientOut(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    family_name: str
    given_name: str
    birth_date: dt.date
    sex: Sex
    nir: str | None
    phone: str | None
    address: str | None
    postal_code: str | None
    commune: str | None
    commune_insee: str | None
    latitude: float | None
    longitude: float | None
    medecin_traitant_status: MedecinTraitantStatus
    medecin_traitant_name: str | None
    ald: bool
    css: bool
    reduced_mobility: bool
    isolation: bool
    disability: bool
    language: str
    sms_consent: bool


class PatientSummary(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    family_name: str
    given_name: str
    birth_date: dt.date
    phone: str | None
    commune: str | None
