"""Payloads of the GP side: the agenda, outcomes, absences with their choice, calendar feeds."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from pydantic import BaseModel, Field

from app.appointments.models import AppointmentStatus, Origin
from app.core.timeutil import ParisDatetime
from app.patients.models import MedecinTraitantStatus
from app.practitioners.models import PractitionerStatus, SessionKind
from app.practitioners.schemas import AbsenceIn


class OnConflict(enum.StrEnum):
    """What happens to the appointments booked over a new absence."""

    refuse = "refuse"
    reassign = "reassign"  # moved to another GP through the scheduler, patients told by SMS
    cancel = "cancel"  # cancelled, patients told by SMS, their requests back to the queue


class AbsenceDeclarationIn(AbsenceIn):
    on_conflict: OnConflict = OnConflict.refuse


class MovedAppointment(BaseModel):
    appointment_id: int
    from_start: ParisDatetime
    to_practitioner_id: int | None = None
    to_practitioner: str | None = None
    to_start: ParisDatetime | None = None
    to_end: ParisDatetime | None = None
    how: str = Field(description="reassigned | cancelled")


class AbsenceDeclarationOut(BaseModel):
    absence_id: int
    practitioner_id: int
    start_at: ParisDatetime
    end_at: ParisDatetime
    reason: str
    appointments: list[MovedAppointment] = Field(default_factory=list)


class OutcomeIn(BaseModel):
    status: AppointmentStatus = Field(description="fulfilled ou noshow")
    surcharges: list[str] | None = Field(
        default=None,
        description="majorations demandées ; par défaut toutes celles qui s'appliquent",
    )
    add_surcharges: list[str] = Field(
        default_factory=list,
        description="majorations à ajouter (ex. MCG : patient adressé par son médecin traitant)",
    )
    video: bool | None = Field(
        default=None,
        description="téléconsultation faite en vidéo ; false : appel sans vidéo (pas une TCG) ; "
        "par défaut : vrai si un lien vidéo a été envoyé",
    )
    wants_medecin_traitant_help: bool | None = Field(
        default=None, description="le patient souhaite de l'aide pour trouver un médecin traitant"
    )
    note: str | None = Field(default=None, max_length=500)
    medecin_traitant_status: MedecinTraitantStatus | None = Field(
        default=None,
        description="réponse du patient à « avez-vous un médecin traitant ? » "
        "(none : confirmé sans médecin traitant, il entre dans l'orientation)",
    )


class BillingOut(BaseModel):
    act_code: str | None
    surcharges: list[str]
    total: str
    reasons: dict[str, Any]
    billed_under_id: int
    billed_under: str


class OutcomeOut(BaseModel):
    appointment_id: int
    status: AppointmentStatus
    origin: Origin
    billing: BillingOut
    wants_medecin_traitant_help: bool | None
    orientation_case_id: int | None
    sas_update: bool = Field(description="le SAS est informé (INT_R03) : rendez-vous pris par lui")


class PatientBrief(BaseModel):
    id: int
    name: str
    initials: str
    phone: str | None
    tel_link: str | None
    address: str | None
    commune: str | None
    latitude: float | None
    longitude: float | None


class StopOut(BaseModel):
    """One appointment of the day; for a round, one stop in its order."""

    appointment_id: int
    order: int
    kind: SessionKind
    status: AppointmentStatus
    origin: Origin
    window_start: ParisDatetime
    window_end: ParisDatetime
    planned_arrival: ParisDatetime | None
    travel_minutes_from_previous: float | None = None
    travel_from: str | None = Field(default=None, description="cabinet | arrêt précédent")
    travel_source: str | None = Field(default=None, description="rounds | estimate")
    reason: str | None
    patient: PatientBrief | None
    maps_geo: str | None = None
    maps_osm: str | None = None
    video_url: str | None = Field(default=None, description="lien de la téléconsultation vidéo")
    outcome: dict[str, Any] | None = None


class SessionBlock(BaseModel):
    id: int
    kind: SessionKind
    start_at: ParisDatetime
    end_at: ParisDatetime
    capacity: int
    open_to_sas: bool
    appointments: list[StopOut]
    round_travel_minutes: float | None = None


class TitularDay(BaseModel):
    id: int
    name: str
    phone: str | None
    sessions: list[dict[str, Any]]


class AgendaDay(BaseModel):
    date: dt.date
    label: str
    sessions: list[SessionBlock]
    titular: TitularDay | None = None


class AgendaOut(BaseModel):
    practitioner_id: int
    practitioner: str
    status: PractitionerStatus
    titular_id: int | None
    titular: str | None
    date_from: dt.date
    date_to: dt.date
    days: list[AgendaDay]


class IcalFeedIn(BaseModel):
    label: str = Field(default="", max_length=100)


class IcalFeedOut(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    practitioner_id: int
    label: str
    token_hint: str
    created_at: ParisDatetime
    revoked_at: ParisDatetime | None
    last_used_at: ParisDatetime | None
    url: str | None = Field(default=None, description="donnée une seule fois, à la création")
