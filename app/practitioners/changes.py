"""Editing and removing the roster: weekly templates, one-off sessions, absences, pairs.

One rule for every change: **an appointment already given is never dropped by a roster
change**. A session that holds appointments is kept as it is (a template edit or removal
leaves it in place, listed in the impact); a change that would leave an appointment
outside any session (editing or removing that very session, an absence over it, an
adjoint's authorisation ending before it) is refused with the appointments listed, to be
moved or cancelled first (their patients are then told by the appointment's own effects).
Free sessions follow the change: cancelled (history kept) and, for templates and
authorisations, materialised again from the new rules.

The roster sits below appointments (app/core import graph): the caller passes the
appointment queries (``held``: ``appointments.queries.held_in_sessions``; ``booked``:
``appointments.queries.active_between``). Each function returns the :class:`Impact`, so a
page can run it in a savepoint, show the impact and roll back before the confirmation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, NotFound
from app.core.timeutil import PARIS, at, aware
from app.practitioners import eligibility
from app.practitioners import service as practitioners_service
from app.practitioners.eligibility import HeldLoader
from app.practitioners.models import (
    Absence,
    DutySession,
    Practitioner,
    SessionTemplate,
)
from app.practitioners.schemas import AbsenceIn, SessionIn, SessionTemplateIn

#: Ids of these practitioners' active appointments over a period (appointments' query).
BookedLoader = Callable[..., Awaitable[list[int]]]

ABSENCE_REASONS = ("Absence", "Absence du médecin titulaire")


@dataclass(frozen=True)
class SessionLine:
    """A session touched by a change, as plain values (readable after a rollback)."""

    id: int
    practitioner_id: int
    start_at: dt.datetime
    end_at: dt.datetime
    kind: str


@dataclass
class Impact:
    """What a roster change does: sessions cancelled, added back, kept for their
    appointments, and the appointments concerned (kept or blocking)."""

    cancelled: list[SessionLine] = field(default_factory=list)
    restored: list[SessionLine] = field(default_factory=list)
    kept: list[SessionLine] = field(default_factory=list)
    created: int = 0
    appointment_ids: list[int] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.cancelled or self.restored or self.kept or self.created)


class RosterChangeRefused(Conflict):
    """A change refused because appointments stand in its way (listed, with their ids)."""

    def __init__(self, message: str, appointment_ids: Sequence[int], field: str = "") -> None:
        super().__init__(message, field=field or None, appointment_ids=list(appointment_ids))
        self.appointment_ids = list(appointment_ids)


def _line(duty: DutySession) -> SessionLine:
    return SessionLine(duty.id, duty.practitioner_id, duty.start_at, duty.end_at, str(duty.kind))


def count_taken(n: int) -> str:
    """« 1 rendez-vous est déjà pris » / « 2 rendez-vous sont déjà pris »: one wording."""
    return f"{n} rendez-vous est déjà pris" if n == 1 else f"{n} rendez-vous sont déjà pris"


async def future_sessions(session: AsyncSession, *conditions: object) -> list[DutySession]:
    return list(
        (
            await session.scalars(
                select(DutySession)
                .where(DutySession.cancelled.is_(False), *conditions)  # type: ignore[arg-type]
                .order_by(DutySession.start_at)
            )
        ).all()
    )


async def retire(
    session: AsyncSession,
    sessions: list[DutySession],
    *,
    reason: str,
    held: HeldLoader,
    detach: bool,
) -> Impact:
    """Cancel the free sessions, keep those holding appointments (listed in the impact).

    ``detach``: the cancelled session leaves its template, so the template can make the
    same date again under its new hours.
    """
    impact = Impact()
    busy = await held(session, [s.id for s in sessions])
    for duty in sessions:
        if busy.get(duty.id):
            impact.kept.append(_line(duty))
            impact.appointment_ids += [h.appointment_id for h in busy[duty.id]]
            continue
        impact.cancelled.append(_line(duty))
        duty.cancelled = True
        duty.cancel_reason = reason
        if detach:
            duty.template_id = None
    await session.flush()
    return impact


# --- weekly templates ---------------------------------------------------------------------


async def get_template(*, session: AsyncSession, template_id: int) -> SessionTemplate:
    template = await session.get(SessionTemplate, template_id)
    if template is None or not template.active:
        raise NotFound(f"Modèle hebdomadaire n°{template_id} introuvable.")
    return template


async def update_template(
    *,
    session: AsyncSession,
    template: SessionTemplate,
    template_in: SessionTemplateIn,
    today: dt.date,
    horizon_days: int,
    held: HeldLoader,
) -> Impact:
    """New hours, kind, capacity or weekday from today on: the free future sessions of the
    template are made again; those holding appointments keep their old hours."""
    practitioner = await practitioners_service.get(
        session=session, practitioner_id=template.practitioner_id
    )
    await practitioners_service.check_adjoint_weekday(
        session=session, practitioner=practitioner, weekday=template_in.weekday
    )
    impact = await retire(
        session,
        await future_sessions(
            session, DutySession.template_id == template.id, DutySession.date >= today
        ),
        reason="Modèle hebdomadaire modifié",
        held=held,
        detach=True,
    )
    template.weekday = template_in.weekday
    template.kind = template_in.kind
    template.start_time = template_in.start_time
    template.end_time = template_in.end_time
    template.capacity = template_in.capacity or practitioners_service.default_capacity(
        practitioner,
        template_in.kind,
        practitioners_service.minutes_between(template_in.start_time, template_in.end_time),
    )
    template.open_to_sas = template_in.open_to_sas
    await session.flush()
    impact.created = await practitioners_service.materialise(
        session=session, start=today, end=today + dt.timedelta(days=horizon_days)
    )
    return impact


async def remove_template(
    *, session: AsyncSession, template: SessionTemplate, today: dt.date, held: HeldLoader
) -> Impact:
    """No more sessions from this template: the free future ones are cancelled, those
    holding appointments are kept."""
    impact = await retire(
        session,
        await future_sessions(
            session, DutySession.template_id == template.id, DutySession.date >= today
        ),
        reason="Modèle hebdomadaire supprimé",
        held=held,
        detach=False,
    )
    template.active = False
    template.valid_until = today - dt.timedelta(days=1)
    await session.flush()
    return impact


# --- one-off (dated) sessions -------------------------------------------------------------


async def get_session(*, session: AsyncSession, session_id: int) -> DutySession:
    duty = await session.get(DutySession, session_id)
    if duty is None or duty.cancelled:
        raise NotFound(f"Vacation n°{session_id} introuvable.")
    return duty


async def update_session(
    *,
    session: AsyncSession,
    duty: DutySession,
    session_in: SessionIn,
    held: HeldLoader,
) -> Impact:
    """New date, hours, kind or capacity; refused while an appointment would fall outside."""
    practitioner = await practitioners_service.get(
        session=session, practitioner_id=duty.practitioner_id
    )
    start_at, end_at = (
        at(session_in.date, session_in.start_time),
        at(session_in.date, session_in.end_time),
    )
    inside = (await held(session, [duty.id])).get(duty.id, [])
    outside = [
        h.appointment_id
        for h in inside
        if session_in.kind != duty.kind or h.start_at < start_at or h.end_at > end_at
    ]
    if outside:
        raise RosterChangeRefused(
            f"{count_taken(len(outside))} dans cette vacation en dehors des nouveaux horaires : "
            "déplacez-les ou annulez-les avant de la modifier.",
            outside,
            field="start_time",
        )
    roster = await eligibility.load_for_declaration(
        session, practitioner=practitioner, start=start_at, end=end_at
    )
    refusal = eligibility.declaration_refusal(roster, practitioner, start_at, end_at)
    if refusal is not None:
        raise refusal.conflict()
    overlap = await session.scalar(
        select(DutySession.id).where(
            DutySession.practitioner_id == practitioner.id,
            DutySession.id != duty.id,
            DutySession.cancelled.is_(False),
            DutySession.start_at < end_at,
            DutySession.end_at > start_at,
        )
    )
    if overlap:
        raise Conflict("Ce médecin a déjà une vacation sur ces horaires.", field="start_time")
    before = _line(duty)
    duty.date = session_in.date
    duty.kind = session_in.kind
    duty.start_at, duty.end_at = start_at, end_at
    duty.capacity = session_in.capacity or practitioners_service.default_capacity(
        practitioner,
        session_in.kind,
        practitioners_service.minutes_between(session_in.start_time, session_in.end_time),
    )
    duty.open_to_sas = session_in.open_to_sas
    duty.template_id = None  # edited by hand: no longer the template's
    await session.flush()
    return Impact(cancelled=[before], created=1, appointment_ids=[h.appointment_id for h in inside])


async def remove_session(*, session: AsyncSession, duty: DutySession, held: HeldLoader) -> Impact:
    """Cancel one session; refused while it holds appointments."""
    busy = (await held(session, [duty.id])).get(duty.id, [])
    if busy:
        raise RosterChangeRefused(
            f"{count_taken(len(busy))} dans cette vacation : déplacez-les ou annulez-les avant "
            "de la supprimer.",
            [h.appointment_id for h in busy],
        )
    duty.cancelled = True
    duty.cancel_reason = "Vacation supprimée par la coordination"
    await session.flush()
    return Impact(cancelled=[_line(duty)])


# --- absences -----------------------------------------------------------------------------


async def get_absence(*, session: AsyncSession, absence_id: int) -> Absence:
    absence = await session.get(Absence, absence_id)
    if absence is None:
        raise NotFound(f"Absence n°{absence_id} introuvable.")
    return absence


async def _restore(
    session: AsyncSession,
    practitioner: Practitioner,
    start: dt.datetime,
    end: dt.datetime,
    *,
    reason: str,
    still_absent: Collection[Absence],
) -> list[SessionLine]:
    """Sessions an absence had cancelled over ``[start, end)`` open again, unless another
    absence (of the practitioner, or of the titular for an adjoint) still covers them."""
    if end <= start:
        return []
    people = [
        practitioner.id,
        *await practitioners_service.adjoints_of(session=session, practitioner=practitioner),
    ]
    reasons = {reason or "Absence", *ABSENCE_REASONS}
    rows = (
        await session.scalars(
            select(DutySession).where(
                DutySession.practitioner_id.in_(people),
                DutySession.cancelled.is_(True),
                DutySession.cancel_reason.in_(reasons),
                DutySession.start_at < end,
                DutySession.end_at > start,
            )
        )
    ).all()
    restored = []
    for duty in rows:
        covered = any(
            aware(a.start_at, PARIS) < duty.end_at
            and duty.start_at < aware(a.end_at, PARIS)
            and a.practitioner_id in (duty.practitioner_id, practitioner.id)
            for a in still_absent
        )
        if not covered:
            duty.cancelled, duty.cancel_reason = False, None
            restored.append(_line(duty))
    await session.flush()
    return restored


async def _others(session: AsyncSession, absence: Absence) -> list[Absence]:
    return list(
        (
            await session.scalars(
                select(Absence).where(
                    Absence.id != absence.id, Absence.practitioner_id == absence.practitioner_id
                )
            )
        ).all()
    )


async def update_absence(
    *,
    session: AsyncSession,
    absence: Absence,
    absence_in: AbsenceIn,
    booked: BookedLoader,
) -> Impact:
    """New dates or reason: refused while appointments are held in the new period (as a
    new absence is); sessions it no longer covers open again, new ones it covers close."""
    practitioner = await practitioners_service.get(
        session=session, practitioner_id=absence.practitioner_id
    )
    start, end = aware(absence_in.start_at, PARIS), aware(absence_in.end_at, PARIS)
    people = [
        practitioner.id,
        *await practitioners_service.adjoints_of(session=session, practitioner=practitioner),
    ]
    taken = await booked(session=session, practitioner_ids=people, start=start, end=end)
    if taken:
        raise RosterChangeRefused(
            f"{count_taken(len(taken))} sur cette période : déplacez-les ou annulez-les avant "
            "de modifier l'absence.",
            taken,
            field="start_date",
        )
    old_start, old_end = aware(absence.start_at, PARIS), aware(absence.end_at, PARIS)
    old_reason = absence.reason
    absence.start_at, absence.end_at, absence.reason = start, end, absence_in.reason
    await session.flush()
    impact = Impact()
    others = [*await _others(session, absence), absence]
    impact.restored += await _restore(
        session,
        practitioner,
        old_start,
        min(old_end, start),
        reason=old_reason,
        still_absent=others,
    )
    impact.restored += await _restore(
        session,
        practitioner,
        max(old_start, end),
        old_end,
        reason=old_reason,
        still_absent=others,
    )
    before = {
        s.id
        for s in await future_sessions(
            session,
            DutySession.practitioner_id.in_(people),
            DutySession.start_at < end,
            DutySession.end_at > start,
        )
    }
    await practitioners_service.cancel_covered(
        session=session, practitioner=practitioner, absence_in=absence_in
    )
    # Sessions it still covers carry its new reason (so removing it later reopens them).
    for duty in (
        await session.scalars(
            select(DutySession).where(
                DutySession.practitioner_id == practitioner.id,
                DutySession.cancelled.is_(True),
                DutySession.cancel_reason == (old_reason or "Absence"),
                DutySession.start_at < end,
                DutySession.end_at > start,
            )
        )
    ).all():
        duty.cancel_reason = absence_in.reason or "Absence"
    impact.cancelled = [
        _line(s)
        for s in (
            await session.scalars(select(DutySession).where(DutySession.id.in_(before)))
        ).all()
    ]
    return impact


async def remove_absence(*, session: AsyncSession, absence: Absence) -> Impact:
    """The practitioner is present after all: the sessions the absence closed open again."""
    practitioner = await practitioners_service.get(
        session=session, practitioner_id=absence.practitioner_id
    )
    others = await _others(session, absence)
    restored = await _restore(
        session,
        practitioner,
        aware(absence.start_at, PARIS),
        aware(absence.end_at, PARIS),
        reason=absence.reason,
        still_absent=others,
    )
    await session.delete(absence)
    await session.flush()
    return Impact(restored=restored)
