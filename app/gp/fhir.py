"""FHIR read access for GP software: the practitioner's own Schedule, Slots, Appointments.

Served under ``/fhir/agenda/`` with the practitioner's bearer token (``/fhir/Slot``,
``/fhir/metadata`` and ``/fhir/Practitioner`` belong to the SAS interface and its token).
The mapping reuses the SAS views and builders (``app.sas``), so one place decides how a
practitioner, a place of practice, a schedule and a slot look in FHIR.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.appointments import queries as appointments_queries
from app.appointments import service as appointments_service
from app.appointments.models import Appointment, AppointmentStatus
from app.audit import service as audit_service
from app.core.timeutil import PARIS, aware, day_bounds
from app.patients.models import Patient
from app.practitioners.models import Practitioner, SessionKind
from app.sas import PlaceView, PractitionerView, SearchParamError, SlotView, normalise_phone
from app.sas.config import CptsIdentity
from app.sas.mapping import (
    build_practitioner,
    build_practitioner_role,
    build_schedule,
    build_slot_bundle,
    fhir_instant,
    practitioner_identifier,
    role_id,
)
from app.sas.profiles import FHIR_JSON, SYSTEM_ACT_CODE
from app.sas.search_params import INCLUDE_ACTORS, INCLUDE_SCHEDULE

__all__ = ["FHIR_JSON"]

CONSULTATION_TYPE = {
    SessionKind.practice: "AMB",
    SessionKind.home_visit: "HH",
    SessionKind.teleconsultation: "VR",
}
MAX_RANGE_DAYS = 31
_PREFIXED = re.compile(r"^(eq|ge|gt|le|lt)?(\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2})?)?)$")


def practitioner_view(practitioner: Practitioner, agenda_url: str) -> PractitionerView:
    phone = None
    if practitioner.phone:
        try:
            phone = normalise_phone(practitioner.phone)
        except ValueError:
            phone = None
    place = PlaceView(
        id="cabinet",
        address_line=practitioner.address,
        city=practitioner.commune,
        postal_code=practitioner.postal_code,
        insee_code=practitioner.commune_insee,
        phone=phone,
    )
    return PractitionerView(
        id=str(practitioner.id),
        family=practitioner.family_name,
        given=practitioner.given_name,
        rpps=practitioner.rpps,
        agenda_url=agenda_url,
        places=(place,),
    )


def _bound(value: str, param: str) -> tuple[str, dt.datetime, bool]:
    match = _PREFIXED.fullmatch(value.strip())
    if match is None:
        raise SearchParamError(
            f"Paramètre {param} invalide : {value!r} (attendu ge2026-12-07 ou le2026-12-08T20:00).",
            expression=param,
        )
    prefix, text = match.group(1) or "eq", match.group(2)
    date_only = "T" not in text
    instant = (
        dt.datetime.combine(dt.date.fromisoformat(text), dt.time(0), tzinfo=PARIS)
        if date_only
        else aware(dt.datetime.fromisoformat(text.replace("Z", "+00:00")), PARIS)
    )
    return prefix, instant, date_only


def search_range(
    values: Sequence[str], *, param: str, now: dt.datetime, default_days: int = 7
) -> tuple[dt.datetime, dt.datetime]:
    """``start=ge…&start=le…`` (or ``date=``) as an instant range; a week from today by default."""
    start, end = None, None
    for value in values:
        prefix, instant, date_only = _bound(value, param)
        if prefix in ("ge", "gt", "eq"):
            start = instant
        if prefix in ("le", "lt", "eq"):
            end = instant + dt.timedelta(days=1) if date_only and prefix != "lt" else instant
    today = now.astimezone(PARIS).date()
    start = start or day_bounds(today)[0]
    end = end or start + dt.timedelta(days=default_days)
    if end <= start:
        raise SearchParamError(f"Intervalle {param} vide.", expression=param)
    if end - start > dt.timedelta(days=MAX_RANGE_DAYS):
        raise SearchParamError(
            f"Intervalle {param} trop long : {MAX_RANGE_DAYS} jours au plus.", expression=param
        )
    return start, end


def _bundle(entries: list[dict[str, Any]], *, base_url: str, self_url: str, total: int) -> dict:
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "searchset",
        "total": total,
        "link": [{"relation": "self", "url": self_url}],
    }
    if entries:
        bundle["entry"] = entries
    return bundle


def _entry(base_url: str, resource: dict[str, Any], mode: str) -> dict[str, Any]:
    return {
        "fullUrl": f"{base_url}/{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "search": {"mode": mode},
    }


def schedule_bundle(
    *, view: PractitionerView, cpts: CptsIdentity, base_url: str, self_url: str
) -> dict[str, Any]:
    """The practitioner's Schedule(s), with the Practitioner and PractitionerRole included."""
    schedules = [build_schedule(view, place) for place in view.places]
    entries = [_entry(base_url, s, "match") for s in schedules]
    entries.append(_entry(base_url, build_practitioner(view), "include"))
    entries += [
        _entry(base_url, build_practitioner_role(view, place, cpts), "include")
        for place in view.places
    ]
    return _bundle(entries, base_url=base_url, self_url=self_url, total=len(schedules))


async def slot_bundle(
    *,
    session: AsyncSession,
    practitioner: Practitioner,
    view: PractitionerView,
    cpts: CptsIdentity,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    base_url: str,
    self_url: str,
) -> dict[str, Any]:
    """Free timed slots (practice and teleconsultation) in the SAS Slot mapping."""
    slots: list[SlotView] = []
    for kind in (SessionKind.practice, SessionKind.teleconsultation):
        for duty, s, e in await appointments_service.free_slots(
            session=session,
            start=start,
            end=end,
            practitioner_ids=[practitioner.id],
            kind=kind,
            now=now,
        ):
            slots.append(
                SlotView(
                    id=f"{duty.id}-{s.astimezone(dt.UTC):%Y%m%d%H%M}",
                    practitioner_id=view.id,
                    start=s,
                    end=e,
                    consultation_type=CONSULTATION_TYPE[kind],
                    slot_types=("SNP", "CPTS") if duty.open_to_sas else ("CPTS",),
                )
            )
    return build_slot_bundle(
        slots=slots,
        practitioners=[view],
        cpts=cpts,
        base_url=base_url,
        self_url=self_url,
        includes=(INCLUDE_SCHEDULE, INCLUDE_ACTORS),
    )


def build_appointment_resource(
    appointment: Appointment,
    view: PractitionerView,
    patient: Patient | None,
    reason: str | None,
) -> dict[str, Any]:
    """A plain FHIR R4 Appointment of the GP's own agenda (status, times, modality, patient)."""
    place = view.places[0]
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(appointment.id),
        "status": str(appointment.status),
        "serviceType": [
            {"coding": [{"system": SYSTEM_ACT_CODE, "code": CONSULTATION_TYPE[appointment.kind]}]}
        ],
        "start": fhir_instant(appointment.start_at),
        "end": fhir_instant(appointment.end_at),
        "created": fhir_instant(appointment.created_at),
        "participant": [
            {
                "actor": {
                    "reference": f"Practitioner/{view.id}",
                    "identifier": practitioner_identifier(view),
                },
                "status": "accepted",
            },
            {
                "actor": {"reference": f"PractitionerRole/{role_id(view, place)}"},
                "status": "accepted",
            },
        ],
    }
    if patient is not None:
        resource["participant"].append(
            {
                "actor": {"display": f"{patient.given_name} {patient.family_name}"},
                "status": "accepted",
            }
        )
    if reason:
        resource["description"] = reason
    if appointment.status == AppointmentStatus.cancelled and appointment.cancel_reason:
        resource["cancelationReason"] = {"text": appointment.cancel_reason}
    if appointment.planned_arrival:
        resource["comment"] = f"Arrivée prévue : {fhir_instant(appointment.planned_arrival)}"
    return resource


async def appointment_bundle(
    *,
    session: AsyncSession,
    practitioner: Practitioner,
    view: PractitionerView,
    start: dt.datetime,
    end: dt.datetime,
    statuses: set[str] | None,
    actor: User,
    base_url: str,
    self_url: str,
) -> dict[str, Any]:
    appointments = await appointments_service.list_for_practitioner(
        session=session,
        practitioner_id=practitioner.id,
        start=start,
        end=end,
        include_cancelled=True,
    )
    if statuses:
        appointments = [a for a in appointments if str(a.status) in statuses]
    patients, reasons = await appointments_queries.patients_and_reasons(session, appointments)
    for patient_id in sorted(patients):
        await audit_service.record(
            session=session,
            actor=actor,
            action="fhir_read",
            entity_type="patient",
            entity_id=patient_id,
            patient_id=patient_id,
        )
    entries = [
        _entry(
            base_url,
            build_appointment_resource(
                a, view, patients.get(a.patient_id), reasons.get(a.request_id)
            ),
            "match",
        )
        for a in appointments
    ]
    return _bundle(entries, base_url=base_url, self_url=self_url, total=len(entries))
