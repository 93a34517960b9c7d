"""What a roster change touches, as the coordinator reads it: the appointments (with a link,
NOM Prénom, the French date and time) and the sessions cancelled, kept or opened again."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.appointments import queries as appointments_queries
from app.appointments import service as appointments_service
from app.core.errors import NotFound
from app.practitioners import service as practitioners_service
from app.ui import formats

#: Flash messages after a confirmed change (``/equipe?fait=…``).
DONE = {
    "modele-modifie": "Modèle hebdomadaire modifié.",
    "modele-supprime": "Modèle hebdomadaire supprimé.",
    "vacation-modifiee": "Vacation modifiée.",
    "vacation-supprimee": "Vacation supprimée.",
    "absence-modifiee": "Absence modifiée.",
    "absence-supprimee": "Absence supprimée : les vacations qu'elle avait fermées sont rouvertes.",
    "adjoint-modifie": "Rattachement et dates d'autorisation enregistrés.",
    "adjoint-retire": "Adjoint retiré de l'équipe.",
}


async def appointment_lines(
    session: AsyncSession, actor: User, ids: Iterable[int]
) -> list[dict[str, Any]]:
    """The appointments a change touches, earliest first: link, patient, GP, date and time."""
    appointments = []
    for appointment_id in dict.fromkeys(ids):
        try:
            appointments.append(
                await appointments_service.get(
                    session=session, appointment_id=appointment_id, actor=actor
                )
            )
        except NotFound:
            continue
    if not appointments:
        return []
    patients, _reasons = await appointments_queries.patients_and_reasons(session, appointments)
    names = {
        p.id: p.display_name
        for p in await practitioners_service.list_(session=session, active_only=False)
    }
    lines = []
    for a in sorted(appointments, key=lambda a: a.start_at):
        patient = patients.get(a.patient_id)
        lines.append(
            {
                "id": a.id,
                "href": f"/rendez-vous/{a.id}",
                "patient": formats.person_name(
                    patient.family_name if patient else None,
                    patient.given_name if patient else None,
                ),
                "practitioner": names.get(a.practitioner_id, ""),
                "start_at": a.start_at,
                "end_at": a.end_at,
            }
        )
    return lines


def session_lines(lines: Iterable[Any], names: dict[int, str]) -> list[dict[str, Any]]:
    """Sessions of an impact (``changes.SessionLine``) with the GP's name."""
    return [
        {
            "practitioner": names.get(line.practitioner_id, ""),
            "start_at": line.start_at,
            "end_at": line.end_at,
            "kind": line.kind,
        }
        for line in lines
    ]
