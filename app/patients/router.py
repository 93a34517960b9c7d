"""Patients: create and update (search and read: app/agenda/router.py, since a GP's
access depends on their appointments)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.accounts.dependencies import STAFF, CurrentUser, require_roles
from app.core.db import SessionDep
from app.patients import service as patients_service
from app.patients.schemas import MergeIn, PatientIn, PatientOut, PatientSummary, PatientUpdate

router = APIRouter(prefix="/api/patients", tags=["patients"])


@router.post(
    "",
    response_model=PatientOut,
    status_code=201,
    dependencies=[require_roles(*STAFF)],
)
async def create_patient(patient_in: PatientIn, session: SessionDep, user: CurrentUser) -> Any:
    return await patients_service.create(session=session, patient_in=patient_in, actor=user)


@router.patch("/{patient_id}", response_model=PatientOut, dependencies=[require_roles(*STAFF)])
async def update_patient(
    patient_id: int, patient_update: PatientUpdate, session: SessionDep, user: CurrentUser
) -> Any:
    return await patients_service.update(
        session=session, patient_id=patient_id, patient_update=patient_update, actor=user
    )


@router.get(
    "/{patient_id}/duplicates",
    response_model=list[PatientSummary],
    dependencies=[require_roles(*STAFF)],
)
async def patient_duplicates(patient_id: int, session: SessionDep, user: CurrentUser) -> Any:
    """Probable duplicates of this record (same name and birth date, NIR, phone + birth date)."""
    return await patients_service.duplicates_of(session=session, patient_id=patient_id, actor=user)


@router.post(
    "/{patient_id}/merge",
    response_model=PatientOut,
    dependencies=[require_roles(*STAFF)],
    responses={409: {"description": "Fusion non confirmée, ou impossible (NIR différents)"}},
)
async def merge_patient(
    patient_id: int, merge_in: MergeIn, session: SessionDep, user: CurrentUser
) -> Any:
    """Merge ``duplicate_id`` into this record (with ``confirm: true``); audited."""
    return await patients_service.merge(
        session=session,
        kept_id=patient_id,
        duplicate_id=merge_in.duplicate_id,
        confirm=merge_in.confirm,
        actor=user,
    )
