"""The roster: practitioners, weekly templates, dated sessions and absences."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.identifiers import rpps_checksum_ok
from app.core.timeutil import PARIS, at, aware, day_bounds, is_public_holiday
from app.practitioners import eligibility
from app.practitioners.models import (
    Absence,
    DutySession,
    Practitioner,
    PractitionerStatus,
    SessionKind,
    SessionTemplate,
)
from app.practitioners.schemas import AbsenceIn, PractitionerIn, SessionIn, SessionTemplateIn


async def get(*, session: AsyncSession, practitioner_id: int) -> Practitioner:
    practitioner = await session.get(Practitioner, practitioner_id)
    if practitioner is None:
        raise NotFound(f"Médecin n°{practitioner_id} introuvable.")
    return practitioner


async def list_(*, session: AsyncSession, active_only: bool = True) -> Sequence[Practitioner]:
    stmt = select(Practitioner).order_by(Practitioner.family_name, Practitioner.given_name)
    if active_only:
        stmt = stmt.where(Practitioner.active.is_(True))
    return (await session.scalars(stmt)).all()


def warnings_for(practitioner: Practitioner) -> list[str]:
    if not rpps_checksum_ok(practitioner.rpps):
        return ["La clé de contrôle (Luhn) du RPPS ne correspond pas : vérifiez le numéro."]
    return []


async def create(*, session: AsyncSession, practitioner_in: PractitionerIn) -> Practitioner:
    data = practitioner_in.model_dump(exclude={"idnps"})
    if await session.scalar(select(Practitioner.id).where(Practitioner.rpps == data["rpps"])):
        raise Conflict(f"Un médecin avec le RPPS {data['rpps']} existe déjà.", field="rpps")
    if practitioner_in.status == PractitionerStatus.adjoint:
        titular = await session.get(Practitioner, practitioner_in.titular_id)
        if titular is None or titular.status != PractitionerStatus.titular:
            raise InvalidInput(
                "Le médecin de rattachement doit être un titulaire existant.", field="titular_id"
            )
        data["accepts_new_patients"] = False  # an adjoint is never médecin traitant
        data["new_patient_capacity"] = 0
    practitioner = Practitioner(**data)
    session.add(practitioner)
    await session.flush()
    return practitioner


def default_capacity(practitioner: Practitioner, kind: SessionKind, minutes: int) -> int:
    if kind == SessionKind.home_visit:
        return max(1, practitioner.max_visits_per_morning)
    slot = (
        practitioner.teleconsultation_slot_minutes if kind == SessionKind.teleconsultation else 15
    )
    return max(1, minutes // slot)


def minutes_between(start: dt.time, end: dt.time) -> int:
    """Minutes from one local time to a later one the same day."""
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)


async def add_template(
    *,
    session: AsyncSession,
    practitioner: Practitioner,
    template_in: SessionTemplateIn,
    today: dt.date,
    horizon_days: int,
) -> SessionTemplate:
    await check_adjoint_weekday(
        session=session, practitioner=practitioner, weekday=template_in.weekday
    )
    template = SessionTemplate(
        practitioner_id=practitioner.id,
        weekday=template_in.weekday,
        kind=template_in.kind,
        start_time=template_in.start_time,
        end_time=template_in.end_time,
        capacity=template_in.capacity
        or default_capacity(
            practitioner,
            template_in.kind,
            minutes_between(template_in.start_time, template_in.end_time),
        ),
        open_to_sas=template_in.open_to_sas,
        valid_from=template_in.valid_from or today,
        valid_until=template_in.valid_until,
    )
    session.add(template)
    await session.flush()
    await materialise(session=session, start=today, end=today + dt.timedelta(days=horizon_days))
    return template


async def check_adjoint_weekday(
    *, session: AsyncSession, practitioner: Practitioner, weekday: int
) -> None:
    """An adjoint works alongside their titular: only on a weekday the titular works."""
    if practitioner.status != PractitionerStatus.adjoint or practitioner.titular_id is None:
        return
    titular_days = set(
        (
            await session.scalars(
                select(SessionTemplate.weekday).where(
                    SessionTemplate.practitioner_id == practitioner.titular_id,
                    SessionTemplate.active.is_(True),
                )
            )
        ).all()
    )
    refusal = eligibility.weekday_refusal(practitioner, titular_days, weekday)
    if refusal is not None:
        raise refusal.conflict()


async def materialise(*, session: AsyncSession, start: dt.date, end: dt.date) -> int:
    """Create the dated sessions of every active template between two dates (idempotent).

    Public holidays and absences are skipped: the platform is closed unless the
    coordinator opens a one-off session. An adjoint's session is created only where
    ``eligibility`` allows one (authorisation dates, the titular on duty and present).
    """
    templates = (
        await session.scalars(select(SessionTemplate).where(SessionTemplate.active.is_(True)))
    ).all()
    if not templates:
        return 0
    existing = set(
        (
            await session.execute(
                select(DutySession.template_id, DutySession.date).where(
                    DutySession.date >= start,
                    DutySession.date <= end,
                    DutySession.template_id.is_not(None),
                )
            )
        ).all()
    )
    people = {
        p.id: p
        for p in (
            await session.scalars(
                select(Practitioner).where(
                    Practitioner.id.in_({t.practitioner_id for t in templates})
                )
            )
        ).all()
    }
    period = (at(start, dt.time(0, 0)), at(end + dt.timedelta(days=1), dt.time(0, 0)))
    titulars = {p.titular_id for p in people.values() if p.status == PractitionerStatus.adjoint} - {
        None
    }
    roster = eligibility.Roster(
        people=people,
        sessions=list(
            (
                await session.scalars(
                    select(DutySession).where(
                        DutySession.practitioner_id.in_(titulars),
                        DutySession.cancelled.is_(False),
                        DutySession.start_at < period[1],
                        DutySession.end_at > period[0],
                    )
                )
            ).all()
        )
        if titulars
        else [],
        absences=list(
            (
                await session.scalars(
                    select(Absence).where(Absence.end_at > period[0], Absence.start_at < period[1])
                )
            ).all()
        ),
    )

    def adjoint_last(t: SessionTemplate) -> int:
        p = people.get(t.practitioner_id)
        return 1 if p is not None and p.status == PractitionerStatus.adjoint else 0

    created = 0
    day = start
    while day <= end:
        if not is_public_holiday(day):
            # Titulars first: their new sessions are what an adjoint's session needs.
            for template in sorted(templates, key=adjoint_last):
                if template.weekday != day.weekday() or (template.id, day) in existing:
                    continue
                if day < template.valid_from or (
                    template.valid_until and day > template.valid_until
                ):
                    continue
                practitioner = people.get(template.practitioner_id)
                if practitioner is None:
                    continue
                start_at = at(day, template.start_time)
                end_at = at(day, template.end_time)
                if any(
                    a.practitioner_id == template.practitioner_id
                    and a.start_at < end_at
                    and start_at < a.end_at
                    for a in roster.absences
                ):
                    continue
                if eligibility.declaration_refusal(roster, practitioner, start_at, end_at):
                    continue
                duty = DutySession(
                    practitioner_id=template.practitioner_id,
                    template_id=template.id,
                    date=day,
                    kind=template.kind,
                    start_at=start_at,
                    end_at=end_at,
                    capacity=template.capacity,
                    open_to_sas=template.open_to_sas,
                )
                session.add(duty)
                if template.practitioner_id in titulars:
                    roster.sessions.append(duty)
                created += 1
        day += dt.timedelta(days=1)
    await session.flush()
    return created


async def add_session(
    *, session: AsyncSession, practitioner: Practitioner, session_in: SessionIn
) -> DutySession:
    start_at, end_at = (
        at(session_in.date, session_in.start_time),
        at(session_in.date, session_in.end_time),
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
            DutySession.cancelled.is_(False),
            DutySession.start_at < end_at,
            DutySession.end_at > start_at,
        )
    )
    if overlap:
        raise Conflict("Ce médecin a déjà une vacation sur ces horaires.", field="start_time")
    duty = DutySession(
        practitioner_id=practitioner.id,
        date=session_in.date,
        kind=session_in.kind,
        start_at=start_at,
        end_at=end_at,
        capacity=session_in.capacity
        or default_capacity(
            practitioner,
            session_in.kind,
            minutes_between(session_in.start_time, session_in.end_time),
        ),
        open_to_sas=session_in.open_to_sas,
    )
    session.add(duty)
    await session.flush()
    return duty


async def list_sessions(
    *,
    session: AsyncSession,
    practitioner_ids: Sequence[int] | None,
    start: dt.datetime,
    end: dt.datetime,
    kind: SessionKind | None = None,
    include_cancelled: bool = False,
) -> Sequence[DutySession]:
    stmt = select(DutySession).where(DutySession.start_at < end, DutySession.end_at > start)
    if practitioner_ids is not None:
        stmt = stmt.where(DutySession.practitioner_id.in_(practitioner_ids))
    if kind is not None:
        stmt = stmt.where(DutySession.kind == kind)
    if not include_cancelled:
        stmt = stmt.where(DutySession.cancelled.is_(False))
    return (
        await session.scalars(stmt.order_by(DutySession.start_at, DutySession.practitioner_id))
    ).all()


async def sessions_on(
    *, session: AsyncSession, practitioner_id: int, date: dt.date
) -> Sequence[DutySession]:
    start, end = day_bounds(date)
    return await list_sessions(
        session=session, practitioner_ids=[practitioner_id], start=start, end=end
    )


async def list_templates(*, session: AsyncSession) -> Sequence[SessionTemplate]:
    """Active weekly templates of every practitioner, by weekday then start time."""
    return (
        await session.scalars(
            select(SessionTemplate)
            .where(SessionTemplate.active.is_(True))
            .order_by(SessionTemplate.weekday, SessionTemplate.start_time)
        )
    ).all()


async def list_absences(*, session: AsyncSession, since: dt.datetime) -> Sequence[Absence]:
    """Absences still running at ``since`` or to come, earliest first."""
    return (
        await session.scalars(
            select(Absence).where(Absence.end_at >= since).order_by(Absence.start_at)
        )
    ).all()


async def adjoints_of(*, session: AsyncSession, practitioner: Practitioner) -> list[int]:
    """The ids of a titular's adjoints (none for an adjoint)."""
    if practitioner.status != PractitionerStatus.titular:
        return []
    return list(
        (
            await session.scalars(
                select(Practitioner.id).where(Practitioner.titular_id == practitioner.id)
            )
        ).all()
    )


def new_absence(*, practitioner: Practitioner, absence_in: AbsenceIn) -> Absence:
    return Absence(
        practitioner_id=practitioner.id,
        start_at=aware(absence_in.start_at, PARIS),
        end_at=aware(absence_in.end_at, PARIS),
        reason=absence_in.reason,
    )


async def add_absence(
    *,
    session: AsyncSession,
    practitioner: Practitioner,
    absence_in: AbsenceIn,
    recorded: Absence | None = None,
) -> Absence:
    """Record an absence and cancel the sessions it covers, and those of a titular's adjoints.

    An adjoint works only alongside the titular, so the titular's absence closes the
    adjoints' sessions over the same hours. The appointments it would cover are the
    caller's business (app/agenda refuses, app/gp/absences reassigns or cancels them
    first): the roster knows no appointment. ``recorded``: the absence row its caller
    already added (to reassign the appointments it covers first).
    """
    absence = recorded or new_absence(practitioner=practitioner, absence_in=absence_in)
    session.add(absence)
    await cancel_covered(session=session, practitioner=practitioner, absence_in=absence_in)
    return absence


async def cancel_covered(
    *, session: AsyncSession, practitioner: Practitioner, absence_in: AbsenceIn
) -> None:
    """Cancel the sessions an absence covers, the practitioner's and their adjoints'."""
    start_at, end_at = aware(absence_in.start_at, PARIS), aware(absence_in.end_at, PARIS)
    affected = [practitioner.id, *await adjoints_of(session=session, practitioner=practitioner)]
    covered = (
        await session.scalars(
            select(DutySession).where(
                and_(
                    DutySession.practitioner_id.in_(affected),
                    DutySession.cancelled.is_(False),
                    DutySession.start_at < end_at,
                    DutySession.end_at > start_at,
                )
            )
        )
    ).all()
    for duty in covered:
        duty.cancelled = True
        duty.cancel_reason = (
            absence_in.reason or "Absence"
            if duty.practitioner_id == practitioner.id
            else "Absence du médecin titulaire"
        )
    await session.flush()
