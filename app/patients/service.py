"""Patients: creation with duplicate detection, search, access control and audit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role, User
from app.audit import service as audit_service
from app.audit.models import AuditEvent
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.core.identifiers import fold, normalise_phone
from app.patients.models import Patient
from app.patients.schemas import PatientIn, PatientUpdate
from app.territory import service as territory


class SeenBy(Protocol):
    """ "Has this practitioner seen this patient?", a question for appointments (above us).

    app/agenda passes ``app.appointments.queries.has_seen``; without it a practitioner
    reads no patient.
    """

    async def __call__(
        self, *, session: AsyncSession, practitioner_id: int, patient_id: int
    ) -> bool: ...


def search_key(family_name: str, given_name: str) -> str:
    return f"{fold(family_name)}|{fold(given_name)}"


async def find_duplicates(*, session: AsyncSession, patient_in: PatientIn) -> Sequence[Patient]:
    """Probable duplicates: same folded name and birth date, same NIR, or phone + birth date."""
    clauses: list[ColumnElement[bool]] = [
        (Patient.search_name == search_key(patient_in.family_name, patient_in.given_name))
        & (Patient.birth_date == patient_in.birth_date)
    ]
    if patient_in.nir:
        clauses.append(Patient.nir == patient_in.nir)
    if patient_in.phone:
        clauses.append(
            (Patient.phone == patient_in.phone) & (Patient.birth_date == patient_in.birth_date)
        )
    return (await session.scalars(select(Patient).where(or_(*clauses)).order_by(Patient.id))).all()


async def create(*, session: AsyncSession, patient_in: PatientIn, actor: User) -> Patient:
    duplicates = await find_duplicates(session=session, patient_in=patient_in)
    if actor.role == Role.regulator and duplicates:
        # The regulator books with the minimal identity the SAS gives: reuse the record
        # without revealing it, so that the patient's history stays in one file.
        patient = duplicates[0]
        await audit_service.record(
            session=session,
            actor=actor,
            action="match",
            entity_type="patient",
            entity_id=patient.id,
            patient_id=patient.id,
        )
        return patient
    if patient_in.nir and any(p.nir == patient_in.nir for p in duplicates):
        same_nir = [p for p in duplicates if p.nir == patient_in.nir]
        raise Conflict(
            "Un patient avec ce NIR existe déjà.",
            field="nir",
            duplicates=_candidates(same_nir),
        )
    if duplicates and not patient_in.confirm_duplicate:
        raise Conflict(
            "Doublon probable : un patient avec le même nom et la même date de naissance "
            "(ou le même téléphone) existe déjà. Vérifiez, ou confirmez la création.",
            duplicates=_candidates(duplicates),
        )
    data = patient_in.model_dump(exclude={"confirm_duplicate"})
    _fill_coordinates(data, await territory.communes(session))
    patient = Patient(**data, search_name=search_key(patient_in.family_name, patient_in.given_name))
    session.add(patient)
    await session.flush()
    await audit_service.record(
        session=session,
        actor=actor,
        action="create",
        entity_type="patient",
        entity_id=patient.id,
        patient_id=patient.id,
    )
    return patient


def _candidates(patients: Sequence[Patient]) -> list[dict]:
    """What a 409 shows of each probable duplicate: enough to recognise them, as a search would."""
    return [
        {
            "id": p.id,
            "family_name": p.family_name,
            "given_name": p.given_name,
            "birth_date": p.birth_date.isoformat(),
            "commune": p.commune,
        }
        for p in patients
    ]


def _fill_coordinates(data: dict, communes: territory.Communes) -> None:
    """Without geocoding, a patient is placed at their commune's centre."""
    if data.get("latitude") is not None and data.get("longitude") is not None:
        return
    commune = communes.find(insee=data.get("commune_insee"), name=data.get("commune"))
    if commune is not None:
        data["latitude"], data["longitude"] = commune.latitude, commune.longitude
        data["commune_insee"] = data.get("commune_insee") or commune.insee
        data["commune"] = data.get("commune") or commune.name


async def _may_read(
    *, session: AsyncSession, actor: User, patient: Patient, seen_by: SeenBy | None
) -> bool:
    if actor.role in (Role.secretary, Role.coordinator, Role.admin):
        return True
    if actor.role == Role.practitioner and actor.practitioner_id is not None:
        # A practitioner reads the patients they have seen (asked of appointments).
        return seen_by is not None and await seen_by(
            session=session, practitioner_id=actor.practitioner_id, patient_id=patient.id
        )
    if actor.role == Role.regulator:
        # A SAS regulator sees the patients they referred themselves, nobody else.
        referred = await session.scalar(
            select(AuditEvent.id).where(
                AuditEvent.patient_id == patient.id,
                AuditEvent.user_id == actor.id,
                AuditEvent.action.in_(("create", "match")),
            )
        )
        return referred is not None
    return False


async def get(
    *,
    session: AsyncSession,
    patient_id: int,
    actor: User,
    purpose: str = "read",
    seen_by: SeenBy | None = None,
) -> Patient:
    """Load a patient for someone allowed to see them, and trace the access."""
    patient = await session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"Patient n°{patient_id} introuvable.")
    if not await _may_read(session=session, actor=actor, patient=patient, seen_by=seen_by):
        raise Forbidden("Vous n'avez pas accès au dossier de ce patient.")
    await audit_service.record(
        session=session,
        actor=actor,
        action=purpose,
        entity_type="patient",
        entity_id=patient.id,
        patient_id=patient.id,
    )
    return patient


async def update(
    *, session: AsyncSession, patient_id: int, patient_update: PatientUpdate, actor: User
) -> Patient:
    patient = await get(session=session, patient_id=patient_id, actor=actor, purpose="update")
    changes = patient_update.model_dump(exclude_unset=True)
    for key, value in changes.items():
        setattr(patient, key, value)
    await session.flush()
    await audit_service.record(
        session=session,
        actor=actor,
        action="update",
        entity_type="patient",
        entity_id=patient.id,
        patient_id=patient.id,
        detail={"fields": sorted(changes)},
    )
    return patient


async def search(
    *,
    session: AsyncSession,
    actor: User,
    name: str | None = None,
    birth_date: dt.date | None = None,
    phone: str | None = None,
    limit: int = 20,
    seen_by: SeenBy | None = None,
) -> Sequence[Patient]:
    """Find patients by (part of) name + birth date, or by phone; every hit is traced."""
    if not phone and not (name and birth_date):
        raise InvalidInput(
            "Recherchez par nom et date de naissance, ou par numéro de téléphone.", field="name"
        )
    stmt = select(Patient)
    if phone:
        try:
            stmt = stmt.where(Patient.phone == normalise_phone(phone))
        except ValueError as exc:
            raise InvalidInput(str(exc), field="phone") from exc
    if name:
        stmt = stmt.where(Patient.search_name.contains(fold(name)))
    if birth_date:
        stmt = stmt.where(Patient.birth_date == birth_date)
    found = (
        await session.scalars(stmt.order_by(Patient.search_name, Patient.id).limit(limit))
    ).all()
    allowed = [
        p
        for p in found
        if await _may_read(session=session, actor=actor, patient=p, seen_by=seen_by)
    ]
    for patient in allowed:
        await audit_service.record(
            session=session,
            actor=actor,
            action="search",
            entity_type="patient",
            entity_id=patient.id,
            patient_id=patient.id,
        )
    return allowed
