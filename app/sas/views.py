"""Frozen views the app fills from its rows, so the FHIR mapping stays pure and testable."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.sas.profiles import (
    APPOINTMENT_STATUSES,
    CONSULTATION_TYPES,
    FHIR_ID_RE,
    IDNPS_ADELI_RE,
    IDNPS_RPPS_RE,
    POSTAL_CODE_RE,
    RPPS_RE,
    SLOT_TYPES,
    SYSTEM_IDNPS,
    SYSTEM_SAS,
)


def _require_id(value: str, what: str) -> None:
    if not FHIR_ID_RE.fullmatch(value):
        raise ValueError(f"{what} n'est pas un id FHIR valide : {value!r}")


def _require_aware(value: dt.datetime, what: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} doit porter un fuseau horaire")


@dataclass(frozen=True, slots=True)
class PlaceView:
    """A place of practice: one PractitionerRole (with its contained Location) and Schedule.

    ``structure_idnst`` is the national id of the structure (``1``+FINESS, ``3``+SIRET,
    ``4``+RPPS rang); when unknown the CPTS's IDNST is published instead, since the SNP
    slots are offered under the CPTS.
    """

    id: str
    address_line: str
    city: str
    postal_code: str
    insee_code: str | None = None
    phone: str | None = None
    structure_idnst: str | None = None

    def __post_init__(self) -> None:
        _require_id(self.id, "PlaceView.id")
        if not POSTAL_CODE_RE.fullmatch(self.postal_code):
            raise ValueError(f"code postal non conforme : {self.postal_code!r}")


@dataclass(frozen=True, slots=True)
class PractitionerView:
    """A GP whose SNP slots the SAS may search; ``agenda_url`` is his agenda in our UI."""

    id: str
    family: str
    given: str
    rpps: str
    agenda_url: str
    places: tuple[PlaceView, ...]
    specialty_code: str | None = "SM54"
    specialty_text: str | None = None

    def __post_init__(self) -> None:
        _require_id(self.id, "PractitionerView.id")
        if not RPPS_RE.fullmatch(self.rpps):
            raise ValueError(f"RPPS non conforme (11 chiffres) : {self.rpps!r}")
        if not self.places:
            raise ValueError("un praticien publié au SAS doit avoir un lieu d'exercice")

    @property
    def idnps(self) -> str:
        """The national id the SAS uses: ``8`` + RPPS."""
        return "8" + self.rpps

    def place(self, place_id: str | None) -> PlaceView:
        """The place of a slot (the first place when the slot does not say)."""
        if place_id is None:
            return self.places[0]
        for place in self.places:
            if place.id == place_id:
                return place
        raise ValueError(f"lieu {place_id!r} inconnu pour le praticien {self.id!r}")


@dataclass(frozen=True, slots=True)
class SlotView:
    """A free slot: consultation type ``AMB`` (practice), ``HH`` (home) or ``VR`` (video)."""

    id: str
    practitioner_id: str
    start: dt.datetime
    end: dt.datetime
    consultation_type: str
    slot_types: tuple[str, ...] = ("SNP", "CPTS")
    place_id: str | None = None
    bookable: bool = True
    label: str | None = None

    def __post_init__(self) -> None:
        _require_id(self.id, "SlotView.id")
        _require_aware(self.start, "SlotView.start")
        _require_aware(self.end, "SlotView.end")
        if self.end <= self.start:
            raise ValueError("un créneau doit finir après son début")
        if self.consultation_type not in CONSULTATION_TYPES:
            raise ValueError(f"type de consultation inconnu : {self.consultation_type!r}")
        unknown = set(self.slot_types) - SLOT_TYPES
        if unknown or not self.slot_types:
            raise ValueError(f"types de créneau invalides : {sorted(unknown)}")


@dataclass(frozen=True, slots=True)
class RegulatorIdentifier:
    """A regulator's id as INT_R02 gave it: national (``IDNPS``) or SAS technical (``INTRN``)."""

    system: str
    value: str

    @property
    def type_code(self) -> str:
        return "INTRN" if self.system == SYSTEM_SAS else "IDNPS"

    @property
    def is_national(self) -> bool:
        return self.system == SYSTEM_IDNPS

    def token(self) -> str:
        """The ``system|value`` form used in conditional URLs."""
        return f"{self.system}|{self.value}"


@dataclass(frozen=True, slots=True)
class RegulatorAccountIn:
    """A regulator account as the SAS sends it (INT_R02), ready for the accounts service."""

    national_id: RegulatorIdentifier | None
    technical_id: RegulatorIdentifier | None
    active: bool
    email: str
    family: str | None = None
    given: str | None = None
    source: str | None = None

    @property
    def identifiers(self) -> tuple[RegulatorIdentifier, ...]:
        return tuple(i for i in (self.national_id, self.technical_id) if i is not None)


@dataclass(frozen=True, slots=True)
class AppointmentView:
    """An appointment booked by a regulator, as pushed to the SAS (INT_R03).

    ``identifier_value`` is our stable technical id (a UUID): every update reuses it.
    ``status`` is already a FHIR status: booked, fulfilled, noshow or cancelled. The patient
    is deliberately absent: FrAppointmentSAS does not carry one and the SAS does not need it.
    """

    identifier_system: str
    identifier_value: str
    status: str
    start: dt.datetime
    end: dt.datetime
    created: dt.datetime
    practitioner_idnps: str
    operator: RegulatorIdentifier
    slot_id: str | None = None
    cancellation_reason: str | None = None

    def __post_init__(self) -> None:
        if self.status not in APPOINTMENT_STATUSES:
            raise ValueError(f"statut de rendez-vous inconnu pour le SAS : {self.status!r}")
        for name in ("start", "end", "created"):
            _require_aware(getattr(self, name), f"AppointmentView.{name}")
        if self.end <= self.start:
            raise ValueError("un rendez-vous doit finir après son début")
        if not self.identifier_system or not self.identifier_value:
            raise ValueError("l'identifiant du rendez-vous est obligatoire")
        if not (
            IDNPS_RPPS_RE.fullmatch(self.practitioner_idnps)
            or IDNPS_ADELI_RE.fullmatch(self.practitioner_idnps)
        ):
            raise ValueError(f"IDNPS du praticien non conforme : {self.practitioner_idnps!r}")

    def conditional_query(self) -> str:
        """``system|value``: the identifier of the conditional PUT."""
        return f"{self.identifier_system}|{self.identifier_value}"
