"""A practitioner's agenda, free slots and absences; the patient reads a GP's agenda opens.

The paths stay under /api/practitioners and /api/patients: they live here because
answering them reads appointments, which the roster and the patient file do not.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Query

from app.accounts.dependencies import STAFF, CurrentUser, require_roles
from app.accounts.models import Role
from app.agenda import service as agenda_service
from app.appointments import queries as appointments_queries
from app.appointments import service as appointments_service
from app.core.clock import NowDep
from app.core.db import SessionDep
from app.core.errors import Forbidden
from app.core.timeutil import PARIS, day_bounds, in_paris
from app.patients import service as patients_service
from app.patients.schemas import PatientOut, PatientSummary
from app.practitioners import service as practitioners_service
from app.practitioners.access import ROSTER, own_or_roster
from app.practitioners.schemas import AbsenceIn, AbsenceOut

practitioners = APIRouter(prefix="/api/practitioners", tags=["practitioners"])
patients = APIRouter(prefix="/api/patients", tags=["patients"])


OWN = require_roles(*ROSTER, Role.practitioner, own="médecin : ses propres vacations")


@practitioners.post(
    "/{practitioner_id}/absences", response_model=AbsenceOut, status_code=201, dependencies=[OWN]
)
async def add_absence(
    practitioner_id: int, absence_in: AbsenceIn, session: SessionDep, user: CurrentUser
) -> Any:
    own_or_roster(user, practitioner_id)
    practitioner = await practitioners_service.get(session=session, practitioner_id=practitioner_id)
    return await agenda_service.add_absence(
        session=session, practitioner=practitioner, absence_in=absence_in
    )


@practitioners.get(
    "/{practitioner_id}/agenda",
    dependencies=[require_roles(*STAFF, Role.practitioner, own="médecin : son propre agenda")],
)
async def get_agenda(
    practitioner_id: int,
    session: SessionDep,
    user: CurrentUser,
    now: NowDep,
    date: dt.date | None = None,
) -> Any:
    if user.role == Role.practitioner and user.practitioner_id != practitioner_id:
        raise Forbidden("Un médecin ne peut consulter que son propre agenda.")
    practitioner = await practitioners_service.get(session=session, practitioner_id=practitioner_id)
    return in_paris(
        await agenda_service.day(
            session=session,
            practitioner=practitioner,
            date=date or now.astimezone(PARIS).date(),
            actor=user,
        )
    )


@practitioners.get("/{practitioner_id}/free-slots", dependencies=[require_roles(*STAFF)])
async def free_slots(
    practitioner_id: int,
    session: SessionDep,
    now: NowDep,
    date_from: dt.date | None = Query(default=None, alias="from"),
    days: int = Query(default=3, ge=1, le=31),
) -> Any:
    first = date_from or now.astimezone(PARIS).date()
    slots = await appointments_service.free_slots(
        session=session,
        practitioner_ids=[practitioner_id],
        start=day_bounds(first)[0],
        end=day_bounds(first + dt.timedelta(days=days - 1))[1],
        now=now,
    )
    return in_paris(
        [
            {"session_id": d.id, "start_at": start, "end_at": end, "open_to_sas": d.open_to_sas}
            for d, start, end in slots
        ]
    )


@patients.get(
    "",
    response_model=list[PatientSummary],
    dependencies=[require_roles(*STAFF, Role.practitioner)],
)
async def search_patients(
    session: SessionDep,
    user: CurrentUser,
    name: str | None = None,
    birth_date: dt.date | None = None,
    phone: str | None = None,
) -> Any:
    return await patients_service.search(
        session=session,
        actor=user,
        name=name,
        birth_date=birth_date,
        phone=phone,
        seen_by=appointments_queries.has_seen,
    )


@patients.get(
    "/{patient_id}",
    response_model=PatientOut,
    dependencies=[
        require_roles(
            *Role,
            own="médecin : les patients qu'il a reçus ou va recevoir ; régulateur SAS : l'identité "
            "qu'il a saisie pour ses réservations en cours",
        )
    ],
)
async def get_patient(patient_id: int, session: SessionDep, user: CurrentUser) -> Any:
    patient = await patients_service.get(
        session=session,
        patient_id=patient_id,
        actor=user,
        seen_by=appointments_queries.has_seen,
        booked_by=appointments_queries.regulator_booked,
    )
    return patients_service.shown_to(user, patient)


router = APIRouter()
router.include_router(practitioners)
router.include_router(patients)
