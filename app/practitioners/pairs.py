"""Editing and removing a titular/adjoint pair: another titular, other authorisation
dates, or the adjoint leaving the team (the rule of app/practitioners/changes.py: an
appointment already given is never dropped; free sessions follow the change)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import InvalidInput
from app.practitioners import eligibility
from app.practitioners import service as practitioners_service
from app.practitioners.changes import (
    Impact,
    RosterChangeRefused,
    count_taken,
    future_sessions,
    retire,
)
from app.practitioners.eligibility import HeldLoader
from app.practitioners.models import DutySession, Practitioner, PractitionerStatus, SessionTemplate


async def update_pair(
    *,
    session: AsyncSession,
    adjoint: Practitioner,
    titular_id: int,
    authorisation_start: dt.date,
    authorisation_end: dt.date,
    today: dt.date,
    horizon_days: int,
    held: HeldLoader,
) -> Impact:
    """Another titular or other authorisation dates for an adjoint (CSP art. L. 4131-2: the
    Ordre's authorisation is dated; the adjoint works alongside the titular). The adjoint's
    future sessions the new pair no longer allows are cancelled, refused while they hold
    appointments; sessions the new pair allows are materialised from the templates."""
    if adjoint.status != PractitionerStatus.adjoint:
        raise InvalidInput("Seul un médecin adjoint a un titulaire et des dates d'autorisation.")
    titular = await session.get(Practitioner, titular_id)
    if titular is None or titular.status != PractitionerStatus.titular or not titular.active:
        raise InvalidInput(
            "Le médecin de rattachement doit être un titulaire actif.", field="titular_id"
        )
    if authorisation_end < authorisation_start:
        raise InvalidInput("La fin de l'autorisation précède son début.", field="authorisation_end")
    adjoint.titular_id = titular.id
    adjoint.authorisation_start, adjoint.authorisation_end = (
        authorisation_start,
        authorisation_end,
    )
    await session.flush()
    future = await future_sessions(
        session,
        DutySession.practitioner_id == adjoint.id,
        DutySession.date >= today,
    )
    disallowed = []
    for duty in future:
        roster = await eligibility.load_for_declaration(
            session, practitioner=adjoint, start=duty.start_at, end=duty.end_at
        )
        if eligibility.declaration_refusal(roster, adjoint, duty.start_at, duty.end_at):
            disallowed.append(duty)
    busy = await held(session, [s.id for s in disallowed])
    blocking = [h.appointment_id for s in disallowed for h in busy.get(s.id, [])]
    if blocking:
        raise RosterChangeRefused(
            f"{count_taken(len(blocking))} avec cet adjoint sur des vacations que le nouveau "
            "rattachement ne permet plus : déplacez-les ou annulez-les d'abord.",
            blocking,
            field="authorisation_end",
        )
    impact = await retire(
        session, disallowed, reason="Autorisation ou titulaire modifié", held=held, detach=True
    )
    impact.created = await practitioners_service.materialise(
        session=session, start=today, end=today + dt.timedelta(days=horizon_days)
    )
    return impact


async def remove_adjoint(
    *, session: AsyncSession, adjoint: Practitioner, today: dt.date, held: HeldLoader
) -> Impact:
    """The pair ends: the adjoint leaves the team (inactive, authorisation ended yesterday),
    their future sessions and templates go; refused while they hold appointments."""
    if adjoint.status != PractitionerStatus.adjoint:
        raise InvalidInput("Seul un médecin adjoint peut être retiré d'une paire.")
    future = await future_sessions(
        session, DutySession.practitioner_id == adjoint.id, DutySession.date >= today
    )
    busy = await held(session, [s.id for s in future])
    blocking = [h.appointment_id for s in future for h in busy.get(s.id, [])]
    if blocking:
        raise RosterChangeRefused(
            f"{count_taken(len(blocking))} avec cet adjoint : déplacez-les ou annulez-les avant "
            "de le retirer de l'équipe.",
            blocking,
        )
    impact = await retire(session, future, reason="Adjoint retiré", held=held, detach=False)
    for template in (
        await session.scalars(
            select(SessionTemplate).where(
                SessionTemplate.practitioner_id == adjoint.id, SessionTemplate.active.is_(True)
            )
        )
    ).all():
        template.active = False
    adjoint.active = False
    if adjoint.authorisation_end is None or adjoint.authorisation_end >= today:
        adjoint.authorisation_end = today - dt.timedelta(days=1)
    await session.flush()
    return impact
