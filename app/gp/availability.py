"""Declaring availability: weekly templates, one-off sessions, the adjoint rule spelt out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, InvalidInput
from app.core.timeutil import PARIS, WEEKDAYS_FR, day_bounds, french_date
from app.gp.service import MAX_AGENDA_DAYS
from app.practitioners import service as practitioners_service
from app.practitioners.models import DutySession, Practitioner, PractitionerStatus, SessionTemplate
from app.practitioners.schemas import SessionIn, SessionTemplateIn

# --- availability -------------------------------------------------------------------------


async def _titular_days_text(session: AsyncSession, titular: Practitioner) -> str:
    weekdays = sorted(
        set(
            (
                await session.scalars(
                    select(SessionTemplate.weekday).where(
                        SessionTemplate.practitioner_id == titular.id,
                        SessionTemplate.active.is_(True),
                    )
                )
            ).all()
        )
    )
    if not weekdays:
        return f"{titular.display_name} n'a déclaré aucune vacation hebdomadaire."
    return (
        f"{titular.display_name} travaille le " + ", ".join(WEEKDAYS_FR[d] for d in weekdays) + "."
    )


async def _adjoint_refusal(
    session: AsyncSession, adjoint: Practitioner, what: str, exc: Conflict
) -> Conflict:
    titular = await practitioners_service.get(session=session, practitioner_id=adjoint.titular_id)  # type: ignore[arg-type]
    return Conflict(
        f"Vacation refusée : {adjoint.display_name} est médecin adjoint de "
        f"{titular.display_name} et ne peut travailler qu'en même temps que son titulaire. "
        f"{what}",
        field=exc.field,
        code="adjoint_outside_titular_duty",
    )


async def list_sessions(
    *, session: AsyncSession, practitioner: Practitioner, date_from: dt.date, date_to: dt.date
) -> Sequence[DutySession]:
    if date_to < date_from or (date_to - date_from).days >= MAX_AGENDA_DAYS:
        raise InvalidInput(f"Période invalide ({MAX_AGENDA_DAYS} jours au plus).", field="to")
    return await practitioners_service.list_sessions(
        session=session,
        practitioner_ids=[practitioner.id],
        start=day_bounds(date_from)[0],
        end=day_bounds(date_to)[1],
        include_cancelled=True,
    )


async def add_template(
    *,
    session: AsyncSession,
    practitioner: Practitioner,
    template_in: SessionTemplateIn,
    today: dt.date,
    horizon_days: int,
) -> SessionTemplate:
    """A weekly session; an adjoint only on the weekdays the titular works."""
    try:
        return await practitioners_service.add_template(
            session=session,
            practitioner=practitioner,
            template_in=template_in,
            today=today,
            horizon_days=horizon_days,
        )
    except Conflict as exc:
        if practitioner.status != PractitionerStatus.adjoint or practitioner.titular_id is None:
            raise
        titular = await practitioners_service.get(
            session=session, practitioner_id=practitioner.titular_id
        )
        days = await _titular_days_text(session, titular)
        raise await _adjoint_refusal(
            session,
            practitioner,
            f"Le {WEEKDAYS_FR[template_in.weekday]} n'est pas un jour de travail du titulaire : "
            + days,
            exc,
        ) from exc


async def add_session(
    *, session: AsyncSession, practitioner: Practitioner, session_in: SessionIn
) -> DutySession:
    """A one-off session; the roster's rule (``eligibility``) said in the GP's words."""
    try:
        return await practitioners_service.add_session(
            session=session, practitioner=practitioner, session_in=session_in
        )
    except Conflict as exc:
        code = exc.extra.get("code")
        if code == "adjoint_not_authorised":
            start, end = practitioner.authorisation_start, practitioner.authorisation_end
            raise Conflict(
                f"Vacation refusée : le {french_date(session_in.date)} est hors des dates "
                "d'autorisation d'exercice de ce médecin adjoint"
                + (f" (du {french_date(start)} au {french_date(end)})." if start and end else "."),
                field="date",
                code="adjoint_not_authorised",
            ) from exc
        if code != "adjoint_without_titular" or practitioner.titular_id is None:
            raise  # an overlap with one's own session, not the adjoint rule
        titular_sessions = await practitioners_service.sessions_on(
            session=session, practitioner_id=practitioner.titular_id, date=session_in.date
        )
        hours = (
            ", ".join(
                f"{s.start_at.astimezone(PARIS):%H:%M}–{s.end_at.astimezone(PARIS):%H:%M}"
                for s in titular_sessions
            )
            or "aucune vacation"
        )
        raise await _adjoint_refusal(
            session,
            practitioner,
            f"Le {french_date(session_in.date)} de {session_in.start_time:%H:%M} à "
            f"{session_in.end_time:%H:%M}, le titulaire n'est pas en service "
            f"(ce jour-là : {hours}).",
            exc,
        ) from exc
