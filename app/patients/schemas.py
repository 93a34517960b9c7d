"""Patient payloads; identifiers are validated here so nothing invalid reaches the service."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field, field_validator, model_validator

from app.core.identifiers import normalise_nir, normalise_phone
from app.core.validation import refuse_nulls
from app.patients.models import INS_OIDS, IdentityStatus, MedecinTraitantStatus, Sex


def _check_oid(value: str | None) -> str | None:
    if value and value.strip() not in INS_OIDS:
        raise ValueError("OID inconnu : l'INS est émis sous 1.2.250.1.213.1.4.8 (NIR) ou .9 (NIA).")
    return value.strip() if value else None


def check_ins(status: IdentityStatus, matricule: str | None, oid: str | None) -> None:
    """RNIV: an identity is récupérée or qualifiée only with the INS the teleservice gave
    (matricule and OID); provisoire and validée need none."""
    if status in (IdentityStatus.recuperee, IdentityStatus.qualifiee) and not (matricule and oid):
        raise ValueError("Une identité récupérée ou qualifiée porte le matricule INS et son OID.")


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
    ame: bool = False
    no_coverage: bool = False
    ins_matricule: str | None = Field(default=None, pattern=r"^[0-9][0-9AB0-9]{12}[0-9]{2}$")
    ins_oid: str | None = None
    identity_status: IdentityStatus = IdentityStatus.provisoire
    confirm_duplicate: bool = Field(
        default=False, description="Créer malgré un doublon probable signalé auparavant"
    )

    @field_validator("ins_oid")
    @classmethod
    def _ins_oid(cls, value: str | None) -> str | None:
        return _check_oid(value)

    @model_validator(mode="after")
    def _ins(self) -> PatientIn:
        check_ins(self.identity_status, self.ins_matricule, self.ins_oid)
        return self

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
    ame: bool | None = None
    no_coverage: bool | None = None
    ins_matricule: str | None = Field(default=None, pattern=r"^[0-9][0-9AB0-9]{12}[0-9]{2}$")
    ins_oid: str | None = None
    identity_status: IdentityStatus | None = None

    @field_validator("ins_oid")
    @classmethod
    def _ins_oid(cls, value: str | None) -> str | None:
        return _check_oid(value)

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
    ame: bool
    no_coverage: bool
    ins_matricule: str | None
    ins_oid: str | None
    identity_status: IdentityStatus


class PatientSummary(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    family_name: str
    given_name: str
    birth_date: dt.date
    phone: str | None
    commune: str | None


class MergeIn(BaseModel):
    """Merge ``duplicate_id`` into the record of the URL, once ``confirm`` is true."""

    duplicate_id: int = Field(ge=1, le=2_147_483_647)
    confirm: bool = Field(
        default=False, description="Confirmer la fusion (sinon : 409 avec les deux dossiers)"
    )
