"""A practitioner's day (sessions and the appointments in them, in order) and absences."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.appointments import queries as appointments_queries
from app.appointments import service as appointments_service
from app.audit import service as audit_service
from app.core.errors import Conflict
from app.core.timeutil import PARIS, aware, day_bounds
from app.patients.models import Patient
from app.practitioners import service as practitioners_service
from app.practitioners.models import Absence, Practitioner
from app.practitioners.schemas import AbsenceIn


async def day(
    *, session: AsyncSession, practitioner: Practitioner, date: dt.date, actor: User
) -> dict[str, Any]:
    start, end = day_bounds(date)
    sessions = await practitioners_service.list_sessions(
        session=session, practitioner_ids=[practitioner.id], start=start, end=end
    )
    appointments = await appointments_service.list_for_practitioner(
        session=session, practitioner_id=practitioner.id, start=start, end=end
    )
    patients, reasons = await appointments_queries.patients_and_reasons(session, appointments)
    for patient_id in patients:
        await audit_service.record(
            session=session,
            actor=actor,
            action="agenda",
            entity_type="patient",
            entity_id=patient_id,
            patient_id=patient_id,
            detail={"date": date.isoformat()},
        )
    out_sessions = []
    for duty in sessions:
        items = [a for a in appointments if a.session_id == duty.id]
        items.sort(
            key=lambda a: (
                a.route_order if a.route_order is not None else 10_000,
                a.planned_arrival or a.start_at,
                a.start_at,
            )
        )
        out_sessions.append(
            {
                "id": duty.id,
                "kind": duty.kind,
                "start_at": duty.start_at,
                "end_at": duty.end_at,
                "capacity": duty.capacity,
                "open_to_sas": duty.open_to_sas,
                "appointments": [
                    {
                        "id": a.id,
                        "kind": a.kind,
                        "status": a.status,
                        "start_at": a.start_at,
                        "end_at": a.end_at,
                        "planned_arrival": a.planned_arrival,
                        "route_order": a.route_order,
                        "origin": a.origin,
                        "patient": _patient_brief(patients.get(a.patient_id)),
                        "reason": reasons.get(a.request_id),
                    }
                    for a in items
                ],
            }
        )
    return {
        "practitioner_id": practitioner.id,
        "practitioner": practitioner.display_name,
        "date": date.isoformat(),
        "sessions": out_sessions,
    }


def _patient_brief(patient: Patient | None) -> dict[str, Any] | None:
    if patient is None:
        return None
    return {
        "id": patient.id,
        "family_name": patient.family_name,
        "given_name": patient.given_name,
        "phone": patient.phone,
        "address": patient.address,
        "commune": patient.commune,
        "latitude": patient.latitude,
        "longitude": patient.longitude,
    }


async def add_absence(
    *, session: AsyncSession, practitioner: Practitioner, absence_in: AbsenceIn
) -> Absence:
    """Record an absence, refused while appointments are still held in it.

    A titular's absence also closes their adjoints' sessions: their appointments count too.
    """
    adjoints = await practitioners_service.adjoints_of(session=session, practitioner=practitioner)
    booked = await appointments_queries.active_between(
        session=session,
        practitioner_ids=[practitioner.id, *adjoints],
        start=aware(absence_in.start_at, PARIS),
        end=aware(absence_in.end_at, PARIS),
    )
    if booked:
        raise Conflict(
            f"{len(booked)} rendez-vous sont déjà pris sur cette période : "
            "déplacez-les ou annulez-les avant de déclarer l'absence.",
            appointment_ids=booked,
        )
    return await practitioners_service.add_absence(
        session=session, practitioner=practitioner, absence_in=absence_in
    )
