"""May practitioner P be booked for kind K at time T? The one home of the roster's rules.

Every producer of slots or options (free-slot lists, SAS search, FHIR agenda,
proposals, the rounds instance, session declarations) and booking itself ask
this module, so what is offered is what booking accepts. The rules:

- the practitioner is active;
- an adjoint only within the authorisation dates, and only while the titular is
  on duty (a titular session overlapping the hours) and not absent;
- nobody during their own absence;
- a session of the kind covers the slot, has room (capacity) and, for timed
  kinds, the slot does not overlap a held appointment.

The checks are pure functions over a :class:`Roster` (rows already loaded);
``load_*`` fill it with a few queries, so each caller reads what it needs once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict
from app.core.timeutil import PARIS
from app.practitioners.models import (
    Absence,
    DutySession,
    Practitioner,
    PractitionerStatus,
    SessionKind,
)

DEFAULT_SLOT_MINUTES = 15


@dataclass(frozen=True)
class Refusal:
    """Why a practitioner cannot be booked (or hold a session) there: a code and French text."""

    code: str
    message: str
    field: str = "start_at"

    def conflict(self) -> Conflict:
        return Conflict(self.message, field=self.field, code=self.code)


@dataclass(frozen=True)
class Held:
    """An active appointment inside a session."""

    appointment_id: int
    kind: SessionKind
    start_at: dt.datetime
    end_at: dt.datetime


#: Reads the active appointments of sessions, by session id. Appointments own that query
#: (``app.appointments.queries.held_in_sessions``): the roster sits below appointments.
HeldLoader = Callable[[AsyncSession, Sequence[int]], Awaitable[dict[int, list[Held]]]]


@dataclass
class Roster:
    """The rows the rules read: people (with the titulars of adjoints), sessions, absences."""

    people: dict[int, Practitioner] = field(default_factory=dict)
    sessions: list[DutySession] = field(default_factory=list)  # not cancelled
    absences: list[Absence] = field(default_factory=list)
    held: dict[int, list[Held]] = field(default_factory=dict)  # by session id
    # The sessions asked for (``sessions`` adds the titulars' ones read for co-duty).
    offered: list[DutySession] = field(default_factory=list)

    def sessions_of_kind(self, kind: SessionKind) -> list[DutySession]:
        """The sessions asked for, of one kind."""
        return [s for s in self.offered if s.kind == kind]

    # ``sessions`` by practitioner, rebuilt when that list is replaced or grows: the slot
    # rules ask per slot, and a scan of every session each time was most of a free-slot
    # search's CPU (benchmarks/profile_requests.py, 2026-12-07).
    _by_practitioner: dict[int, list[DutySession]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _indexed: tuple[int, int] = field(default=(0, -1), init=False, repr=False, compare=False)

    def sessions_of(
        self, practitioner_id: int, kind: SessionKind | None = None
    ) -> list[DutySession]:
        key = (id(self.sessions), len(self.sessions))
        if self._indexed != key:
            index: dict[int, list[DutySession]] = {}
            for s in self.sessions:
                index.setdefault(s.practitioner_id, []).append(s)
            self._by_practitioner, self._indexed = index, key
        return [
            s
            for s in self._by_practitioner.get(practitioner_id, ())
            if kind is None or s.kind == kind
        ]


# --- the rules (pure) ---------------------------------------------------------------------


def authorised_on(practitioner: Practitioner, day: dt.date) -> bool:
    """A titular always; an adjoint only between both authorisation dates."""
    if practitioner.status != PractitionerStatus.adjoint:
        return True
    start, end = practitioner.authorisation_start, practitioner.authorisation_end
    return bool(start and end and start <= day <= end)


def _absent(roster: Roster, practitioner_id: int, start: dt.datetime, end: dt.datetime) -> bool:
    return any(
        a.practitioner_id == practitioner_id and a.start_at < end and start < a.end_at
        for a in roster.absences
    )


def titular_on_duty(
    roster: Roster, adjoint: Practitioner, start: dt.datetime, end: dt.datetime
) -> bool:
    """The adjoint's titular holds a session overlapping these hours and is not absent."""
    titular_id = adjoint.titular_id
    if titular_id is None or _absent(roster, titular_id, start, end):
        return False
    return any(s.start_at < end and start < s.end_at for s in roster.sessions_of(titular_id))


def presence_refusal(
    roster: Roster, practitioner: Practitioner, start: dt.datetime, end: dt.datetime
) -> Refusal | None:
    """May this practitioner work at these hours at all (any kind)?"""
    if not practitioner.active:
        return Refusal(
            "practitioner_inactive",
            "Ce médecin n'est plus actif sur la plateforme.",
            field="practitioner_id",
        )
    if not authorised_on(practitioner, start.astimezone(PARIS).date()):
        return Refusal(
            "adjoint_not_authorised",
            "Ce médecin adjoint n'est pas autorisé à exercer à cette date "
            "(hors de ses dates d'autorisation).",
            field="practitioner_id",
        )
    if _absent(roster, practitioner.id, start, end):
        return Refusal(
            "practitioner_absent",
            "Ce médecin est absent sur ce créneau.",
            field="start_at",
        )
    if practitioner.status == PractitionerStatus.adjoint and not titular_on_duty(
        roster, practitioner, start, end
    ):
        return Refusal(
            "adjoint_without_titular",
            "Un médecin adjoint ne peut recevoir de rendez-vous que lorsque son titulaire "
            "est en service le même jour, sur les mêmes horaires.",
            field="practitioner_id",
        )
    return None


def containing_session(
    roster: Roster,
    practitioner_id: int,
    kind: SessionKind,
    start: dt.datetime,
    end: dt.datetime,
) -> DutySession | None:
    for s in roster.sessions_of(practitioner_id, kind):
        if s.start_at <= start and end <= s.end_at:
            return s
    return None


def room_refusal(
    roster: Roster,
    duty: DutySession,
    kind: SessionKind,
    start: dt.datetime,
    end: dt.datetime,
    *,
    exclude_id: int | None = None,
) -> Refusal | None:
    """Capacity of the session, and no overlap with a held timed appointment."""
    taken = [h for h in roster.held.get(duty.id, []) if h.appointment_id != exclude_id]
    if kind != SessionKind.home_visit and any(
        h.kind != SessionKind.home_visit and h.start_at < end and start < h.end_at for h in taken
    ):
        return Refusal("slot_taken", "Ce créneau est déjà pris : choisissez-en un autre.")
    if len(taken) >= duty.capacity:
        return Refusal("session_full", f"Vacation complète ({duty.capacity} rendez-vous au plus).")
    return None


def slot_refusal(
    roster: Roster,
    practitioner: Practitioner,
    kind: SessionKind,
    start: dt.datetime,
    end: dt.datetime,
    *,
    exclude_id: int | None = None,
) -> tuple[DutySession | None, Refusal | None]:
    """The session that would hold the booking, or the first rule broken."""
    refusal = presence_refusal(roster, practitioner, start, end)
    if refusal is not None:
        return None, refusal
    duty = containing_session(roster, practitioner.id, kind, start, end)
    if duty is None:
        return None, Refusal(
            "outside_session", "Aucune vacation de ce type ne couvre ce créneau pour ce médecin."
        )
    return duty, room_refusal(roster, duty, kind, start, end, exclude_id=exclude_id)


def session_usable(roster: Roster, duty: DutySession) -> bool:
    """Whether a session's practitioner may work in it at all: active, authorised, present.

    The adjoint's co-duty is hour by hour: slot checks (and the solver's clipping to the
    titular's hours) apply it.
    """
    practitioner = roster.people.get(duty.practitioner_id)
    return (
        practitioner is not None
        and practitioner.active
        and authorised_on(practitioner, duty.start_at.astimezone(PARIS).date())
        and not _absent(roster, practitioner.id, duty.start_at, duty.end_at)
        and (
            practitioner.status != PractitionerStatus.adjoint
            or practitioner.titular_id is None
            or not _absent(roster, practitioner.titular_id, duty.start_at, duty.end_at)
        )
    )


def slot_minutes(practitioner: Practitioner | None) -> int:
    return (practitioner.teleconsultation_slot_minutes if practitioner else 0) or (
        DEFAULT_SLOT_MINUTES
    )


def free_slots(
    roster: Roster,
    *,
    kind: SessionKind,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime | None = None,
    sas_only: bool = False,
) -> list[tuple[DutySession, dt.datetime, dt.datetime]]:
    """Timed slots cut from the sessions at each practitioner's length, each one bookable."""
    slots: list[tuple[DutySession, dt.datetime, dt.datetime]] = []
    for duty in roster.sessions_of_kind(kind):
        if sas_only and not duty.open_to_sas:
            continue
        practitioner = roster.people.get(duty.practitioner_id)
        if practitioner is None:
            continue
        step = dt.timedelta(minutes=slot_minutes(practitioner))
        cursor = duty.start_at
        while cursor + step <= duty.end_at:
            slot_end = cursor + step
            if (
                start <= cursor < end
                and (now is None or cursor >= now)
                and slot_refusal(roster, practitioner, kind, cursor, slot_end)[1] is None
            ):
                slots.append((duty, cursor, slot_end))
            cursor = slot_end
    slots.sort(key=lambda item: (item[1], item[0].practitioner_id))
    return slots


def declaration_refusal(
    roster: Roster, practitioner: Practitioner, start: dt.datetime, end: dt.datetime
) -> Refusal | None:
    """May a session be declared at these hours? An adjoint: authorised, with the titular."""
    if practitioner.status != PractitionerStatus.adjoint:
        return None
    if not authorised_on(practitioner, start.astimezone(PARIS).date()):
        return Refusal(
            "adjoint_not_authorised",
            "Ce médecin adjoint n'est pas autorisé à exercer à cette date "
            "(hors de ses dates d'autorisation).",
            field="date",
        )
    if not titular_on_duty(roster, practitioner, start, end):
        return Refusal(
            "adjoint_without_titular",
            "Un médecin adjoint ne peut avoir de vacation qu'en même temps que son titulaire : "
            "aucune vacation du titulaire ce jour-là sur ces horaires.",
            field="date",
        )
    return None


def weekday_refusal(
    practitioner: Practitioner, titular_weekdays: set[int], weekday: int
) -> Refusal | None:
    """A weekly session of an adjoint only on a weekday the titular works."""
    if practitioner.status != PractitionerStatus.adjoint or practitioner.titular_id is None:
        return None
    if weekday in titular_weekdays:
        return None
    return Refusal(
        "adjoint_outside_titular_days",
        "Un médecin adjoint ne peut avoir de vacation que les jours où son titulaire travaille.",
        field="weekday",
    )


# --- loading ------------------------------------------------------------------------------


async def _people(session: AsyncSession, ids: Iterable[int]) -> dict[int, Practitioner]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.scalars(select(Practitioner).where(Practitioner.id.in_(wanted)))
    return {p.id: p for p in rows.all()}


async def load_absences(
    session: AsyncSession, ids: Iterable[int], start: dt.datetime, end: dt.datetime
) -> list[Absence]:
    wanted = set(ids)
    if not wanted:
        return []
    rows = await session.scalars(
        select(Absence).where(
            Absence.practitioner_id.in_(wanted), Absence.start_at < end, Absence.end_at > start
        )
    )
    return list(rows.all())


def _active_sessions(start: dt.datetime, end: dt.datetime):
    return select(DutySession).where(
        DutySession.cancelled.is_(False), DutySession.start_at < end, DutySession.end_at > start
    )


async def load(
    session: AsyncSession,
    *,
    start: dt.datetime,
    end: dt.datetime,
    kinds: Iterable[SessionKind] | None = None,
    practitioner_ids: Sequence[int] | None = None,
    held: HeldLoader | None,
) -> Roster:
    """The roster of a period: sessions of these kinds, their people, titulars and absences."""
    stmt = _active_sessions(start, end).order_by(DutySession.start_at, DutySession.practitioner_id)
    if practitioner_ids is not None:
        stmt = stmt.where(DutySession.practitioner_id.in_(practitioner_ids))
    wanted_kinds = list(kinds) if kinds is not None else None
    if wanted_kinds is not None:
        stmt = stmt.where(DutySession.kind.in_(wanted_kinds))
    sessions = list((await session.scalars(stmt)).all())
    roster = Roster(sessions=list(sessions), offered=sessions)
    if not sessions:
        return roster
    roster.people = await _people(session, {s.practitioner_id for s in sessions})
    titulars = {
        p.titular_id
        for p in roster.people.values()
        if p.status == PractitionerStatus.adjoint and p.titular_id
    }
    missing = titulars - roster.people.keys()
    if missing:
        roster.people.update(await _people(session, missing))
    # Co-duty and absences are read over the sessions' whole hours, not just the period.
    span = (min(s.start_at for s in sessions), max(s.end_at for s in sessions))
    if titulars:
        # The titulars' sessions of any kind count for the adjoint's co-duty.
        known = {s.id for s in sessions}
        extra = (
            await session.scalars(
                _active_sessions(*span).where(DutySession.practitioner_id.in_(titulars))
            )
        ).all()
        roster.sessions += [s for s in extra if s.id not in known]
    roster.absences = await load_absences(session, roster.people.keys(), *span)
    if held is not None:
        roster.held = await held(session, [s.id for s in sessions])
    return roster


async def load_for_booking(
    session: AsyncSession,
    *,
    practitioner: Practitioner,
    kind: SessionKind,
    start: dt.datetime,
    end: dt.datetime,
    held: HeldLoader,
) -> Roster:
    """What booking one slot reads, the covering session locked (serialises its bookings)."""
    duty = await session.scalar(
        select(DutySession)
        .where(
            DutySession.practitioner_id == practitioner.id,
            DutySession.kind == kind,
            DutySession.cancelled.is_(False),
            DutySession.start_at <= start,
            DutySession.end_at >= end,
        )
        .with_for_update()
    )
    roster = Roster(people={practitioner.id: practitioner}, sessions=[duty] if duty else [])
    ids = [practitioner.id]
    if practitioner.status == PractitionerStatus.adjoint and practitioner.titular_id:
        ids.append(practitioner.titular_id)
        roster.sessions += (
            await session.scalars(
                _active_sessions(start, end).where(
                    DutySession.practitioner_id == practitioner.titular_id
                )
            )
        ).all()
    roster.absences = await load_absences(session, ids, start, end)
    if duty is not None:
        roster.held = await held(session, [duty.id])
    return roster


async def load_for_declaration(
    session: AsyncSession, *, practitioner: Practitioner, start: dt.datetime, end: dt.datetime
) -> Roster:
    """The titular's sessions and absences around an adjoint's session being declared."""
    roster = Roster(people={practitioner.id: practitioner})
    if practitioner.status != PractitionerStatus.adjoint or not practitioner.titular_id:
        return roster
    roster.sessions = list(
        (
            await session.scalars(
                _active_sessions(start, end).where(
                    DutySession.practitioner_id == practitioner.titular_id
                )
            )
        ).all()
    )
    roster.absences = await load_absences(session, [practitioner.titular_id], start, end)
    return roster
