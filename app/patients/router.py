"""Patients: create, search, read, update."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter

from app.accounts.dependencies import STAFF, CurrentUser, require_roles
from app.accounts.models import Role
from app.core.db import SessionDep
from app.patients import service as patients_service
from app.patients.schemas import PatientIn, PatientOut, PatientSummary, PatientUpdate

router = APIRouter(prefix="/api/patients", tags=["patients"])


@router.post(
    "",
    response_model=PatientOut,
    status_code=201,
    dependencies=[require_roles(*STAFF)],
)
async def create_patient(patient_in: PatientIn, session: SessionDep, user: CurrentUser) -> Any:
    return await patients_service.create(session=session, patient_in=patient_in, actor=user)


@router.get(
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
        session=session, actor=user, name=name, birth_date=birth_date, phone=phone
    )


@router.get(
    "/{patient_id}",
    response_model=PatientOut,
    dependencies=[
        require_roles(
            *Role,
            own="médecin : les patients qu'il a reçus ; régulateur SAS : ceux qu'il a adressés",
        )
    ],
)
async def get_patient(patient_id: int, session: SessionDep, user: CurrentUser) -> Any:
    return await patients_service.get(session=session, patient_id=patient_id, actor=user)


@router.patch("/{patient_id}", response_model=PatientOut, dependencies=[require_roles(*STAFF)])
async def update_patient(
    patient_id: int, patient_update: PatientUpdate, session: SessionDep, user: CurrentUser
) -> Any:
    return await patients_service.update(
        session=session, patient_id=patient_id, patient_update=patient_update, actor=user
    )
