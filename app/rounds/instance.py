"""Rows → scheduler dataclasses: one day's team, sessions and booked home visits.

Times become minutes from midnight Europe/Paris on the day (the scheduler's
convention). A booked home visit is pinned to its GP and its promised window
(``start_at``–``end_at``) is hard; ids are ``"a<appointment id>"`` for booked
visits, ``"r<request id>"`` for a request being placed, ``str(id)`` for GPs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.appointments.models import ACTIVE_STATUSES, Appointment, AppointmentStatus
from app.core.timeutil import PARIS, at, day_bounds
from app.patients.models import Patient
from app.practitioners import eligibility
from app.practitioners import service as practitioners_service
from app.practitioners.models import DutySession, Practitioner, PractitionerStatus, SessionKind
from app.requests.models import CareRequest
from app.rounds.models import RoundRoute, RoundRun, RunStatus
from app.territory import service as territory
from scheduler import Instance, Session, Status, Urgency, Visit, Window
from scheduler import Practitioner as Gp
from scheduler import SessionKind as Kind
from scheduler.results import RoundsResult, Route, Stop

DAY_MINUTES = 24 * 60
KINDS = {
    SessionKind.home_visit: Kind.HOME_VISIT,
    SessionKind.teleconsultation: Kind.TELECONSULTATION,
}


def visit_key(appointment_id: int) -> str:
    return f"a{appointment_id}"


def appointment_of(visit_id: str) -> int | None:
    return int(visit_id[1:]) if visit_id.startswith("a") else None


def minutes(value: dt.datetime, day: dt.date) -> int:
    """Minutes from local midnight of ``day``, clamped to the day."""
    local = value.astimezone(PARIS)
    if local.date() < day:
        return 0
    if local.date() > day:
        return DAY_MINUTES
    return local.hour * 60 + local.minute


def instant(day: dt.date, value: int) -> dt.datetime:
    """The aware instant ``value`` minutes after local midnight of ``day``."""
    if value >= DAY_MINUTES:
        return at(day + dt.timedelta(days=1), dt.time(0))
    return at(day, dt.time(value // 60, value % 60))


def location(
    patient: Patient | None, fallback: Practitioner, communes: territory.Communes
) -> tuple[float, float]:
    """The patient's coordinates, else their commune's centre, else the practice."""
    if patient is not None and patient.latitude is not None and patient.longitude is not None:
        return patient.latitude, patient.longitude
    commune = communes.find(insee=patient.commune_insee) if patient else None
    if commune is None and patient is not None and patient.commune:
        commune = communes.find(name=patient.commune)
    if commune is not None:
        return commune.latitude, commune.longitude
    return fallback.latitude, fallback.longitude


def urgency(care_request: CareRequest | None) -> Urgency:
    if care_request is None or care_request.urgency is None:
        return Urgency.WITHIN_48H
    return Urgency(str(care_request.urgency))


def language(patient: Patient | None) -> str | None:
    """A language the GP must speak: only when the patient does not speak French."""
    if patient is None or not patient.language or patient.language == "fr":
        return None
    return patient.language


def to_gp(p: Practitioner, max_visits: int) -> Gp:
    adjoint = p.status == PractitionerStatus.adjoint
    authorised_from, authorised_until = p.authorisation_start, p.authorisation_end
    if adjoint and (authorised_from is None or authorised_until is None):
        # The booking rules want both dates: without them an adjoint is never bookable.
        authorised_from = authorised_until = dt.date.min
    return Gp(
        id=str(p.id),
        name=p.display_name,
        lat=p.latitude,
        lon=p.longitude,
        status=Status.ADJOINT if adjoint else Status.TITULAR,
        titular_id=str(p.titular_id) if adjoint and p.titular_id else None,
        authorised_from=authorised_from if adjoint else None,
        authorised_until=authorised_until if adjoint else None,
        languages=frozenset(p.languages or ["fr"]),
        max_visits=max_visits,
        slot_minutes=p.teleconsultation_slot_minutes or 15,
    )


@dataclass
class DayData:
    """One day as the scheduler sees it, with the rows to map its answers back."""

    date: dt.date
    instance: Instance
    practitioners: dict[int, Practitioner]
    rounds_sessions: dict[int, DutySession]
    appointments: dict[int, Appointment]
    patients: dict[int, Patient]
    orders: dict[str, list[str]] = field(default_factory=dict)
    run: RoundRun | None = None
    # Plain copies for the solver threads (ORM rows must not be touched off the loop).
    spans: dict[int, tuple[int, int]] = field(default_factory=dict)
    # The territory's communes: their centres place patients without coordinates.
    communes: territory.Communes = field(default_factory=territory.Communes)

    def previous_plan(self) -> RoundsResult | None:
        """The order in force, as a plan the solver can start from (timing not used)."""
        if not self.orders:
            return None
        routes = tuple(
            Route(
                pid,
                tuple(Stop(vid, 0, Window(0, 0), 0, 0.0) for vid in order),
                0,
                0,
                0.0,
            )
            for pid, order in self.orders.items()
        )
        return RoundsResult(self.date, routes, (), 0.0, {})


async def current_run(*, session: AsyncSession, date: dt.date) -> RoundRun | None:
    """The latest succeeded run of the day: its routes are the plan in force."""
    return await session.scalar(
        select(RoundRun)
        .where(RoundRun.date == date, RoundRun.status == RunStatus.succeeded)
        .order_by(RoundRun.id.desc())
        .limit(1)
    )


async def routes_of(*, session: AsyncSession, run: RoundRun) -> list[RoundRoute]:
    return list(
        (
            await session.scalars(
                select(RoundRoute)
                .where(RoundRoute.run_id == run.id)
                .order_by(RoundRoute.practitioner_id)
            )
        ).all()
    )


async def load_day(
    *, session: AsyncSession, date: dt.date, home_visit_minutes: int = 20
) -> DayData:
    """The day's GPs on duty (with the titulars of adjoints), sessions and booked visits."""
    duties, people = await _duties(session, date)
    rounds_sessions: dict[int, DutySession] = {}
    for d in duties:
        if d.kind == SessionKind.home_visit:
            rounds_sessions.setdefault(d.practitioner_id, d)
    appointments, patients, requests = await _booked_visits(session, duties)
    communes = await territory.communes(session)
    instance = Instance(
        date,
        _gps(people, rounds_sessions, appointments),
        _sessions(duties, date),
        tuple(
            _visit(a, patients, requests, people, communes, date, home_visit_minutes)
            for a in appointments.values()
        ),
    )
    data = DayData(date, instance, people, rounds_sessions, appointments, patients)
    data.communes = communes
    data.spans = {
        pid: (minutes(d.start_at, date), minutes(d.end_at, date))
        for pid, d in rounds_sessions.items()
    }
    data.run, routes = await _run_in_force(session, date)
    if data.run is not None:
        for route in routes:
            order = [visit_key(s["appointment_id"]) for s in route.stops]
            data.orders[str(route.practitioner_id)] = [
                v for v in order if appointment_of(v) in appointments
            ]
    else:
        # No run yet: the rounds in force are the ones the bookings' insertions built,
        # stamped on the appointments (``route_order``). Without them each insertion and
        # the worker's first run would start from a fresh heuristic plan, which may leave
        # out a promised visit that the insertions had placed.
        stamped = sorted(
            (a for a in appointments.values() if a.route_order is not None),
            key=lambda a: (a.route_order or 0, a.id),
        )
        for a in stamped:
            data.orders.setdefault(str(a.practitioner_id), []).append(visit_key(a.id))
    return data


async def _duties(
    session: AsyncSession, date: dt.date
) -> tuple[list[DutySession], dict[int, Practitioner]]:
    """The day's sessions the solver plans, and their GPs with the titulars of adjoints."""
    start, end = day_bounds(date)
    duties = [
        d
        for d in await practitioners_service.list_sessions(
            session=session, practitioner_ids=None, start=start, end=end
        )
        if d.kind in KINDS and d.date == date
    ]
    ids = {d.practitioner_id for d in duties}
    people = await _practitioners(session, ids)
    titulars = {p.titular_id for p in people.values() if p.titular_id and p.titular_id not in ids}
    people.update(await _practitioners(session, titulars))
    # Only sessions whose GP may work (active, authorised, not absent, titular present).
    roster = eligibility.Roster(
        people=people,
        sessions=duties,
        absences=await eligibility.load_absences(session, people.keys(), start, end),
    )
    return [d for d in duties if eligibility.session_usable(roster, d)], people


async def _booked_visits(
    session: AsyncSession, duties: list[DutySession]
) -> tuple[dict[int, Appointment], dict[int, Patient], dict[int, CareRequest]]:
    """The booked home visits of these sessions with their patients and requests (one read)."""
    if not duties:
        return {}, {}, {}
    rows = await session.execute(
        select(Appointment, Patient, CareRequest)
        .outerjoin(Patient, Patient.id == Appointment.patient_id)
        .outerjoin(CareRequest, CareRequest.id == Appointment.request_id)
        .where(
            Appointment.session_id.in_([d.id for d in duties]),
            Appointment.kind == SessionKind.home_visit,
            Appointment.status == AppointmentStatus.booked,
        )
        .order_by(Appointment.id)
    )
    appointments: dict[int, Appointment] = {}
    patients: dict[int, Patient] = {}
    requests: dict[int, CareRequest] = {}
    for appointment, patient, care_request in rows.all():
        appointments[appointment.id] = appointment
        if patient is not None:
            patients[patient.id] = patient
        if care_request is not None:
            requests[care_request.id] = care_request
    return appointments, patients, requests


async def _run_in_force(
    session: AsyncSession, date: dt.date
) -> tuple[RoundRun | None, list[RoundRoute]]:
    """:func:`current_run` and :func:`routes_of` in one read (the booking's day load)."""
    latest = (
        select(RoundRun.id)
        .where(RoundRun.date == date, RoundRun.status == RunStatus.succeeded)
        .order_by(RoundRun.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            select(RoundRun, RoundRoute)
            .outerjoin(RoundRoute, RoundRoute.run_id == RoundRun.id)
            .where(RoundRun.id == latest)
            .order_by(RoundRoute.practitioner_id)
        )
    ).all()
    if not rows:
        return None, []
    return rows[0][0], [route for _, route in rows if route is not None]


def _gps(
    people: dict[int, Practitioner],
    rounds_sessions: dict[int, DutySession],
    appointments: dict[int, Appointment],
) -> tuple[Gp, ...]:
    """Each GP with room for their visits already booked (never fewer than booked)."""
    booked: dict[int, int] = {}
    for a in appointments.values():
        booked[a.practitioner_id] = booked.get(a.practitioner_id, 0) + 1
    gps = []
    for p in sorted(people.values(), key=lambda p: p.id):
        duty = rounds_sessions.get(p.id)
        cap = min(p.max_visits_per_morning, duty.capacity) if duty else p.max_visits_per_morning
        gps.append(to_gp(p, max(cap, booked.get(p.id, 0))))
    return tuple(gps)


def _sessions(duties: list[DutySession], date: dt.date) -> tuple[Session, ...]:
    return tuple(
        Session(str(d.practitioner_id), KINDS[d.kind], minutes(d.start_at, date), m_end)
        for d in duties
        if (m_end := minutes(d.end_at, date)) > minutes(d.start_at, date)
    )


def _visit(
    a: Appointment,
    patients: dict[int, Patient],
    requests: dict[int, CareRequest],
    people: dict[int, Practitioner],
    communes: territory.Communes,
    date: dt.date,
    home_visit_minutes: int,
) -> Visit:
    """A booked home visit: where, how urgent, how long, promised window, its GP."""
    lat, lon = location(patients.get(a.patient_id), people[a.practitioner_id], communes)
    care_request = requests.get(a.request_id)
    return Visit(
        id=visit_key(a.id),
        lat=lat,
        lon=lon,
        urgency=urgency(care_request),
        service_minutes=a.visit_minutes
        or (care_request.visit_minutes if care_request else None)
        or home_visit_minutes,
        promised=Window(minutes(a.start_at, date), minutes(a.end_at, date)),
        assigned_practitioner_id=str(a.practitioner_id),
    )


async def previous_practitioner(
    *, session: AsyncSession, patient_id: int, before: dt.datetime
) -> int | None:
    """The GP the patient saw (or is booked with) most recently: continuity of care."""
    return await session.scalar(
        select(Appointment.practitioner_id)
        .where(
            Appointment.patient_id == patient_id,
            Appointment.status.in_(ACTIVE_STATUSES),
            Appointment.start_at < before,
        )
        .order_by(Appointment.start_at.desc())
        .limit(1)
    )


async def _practitioners(session: AsyncSession, ids: Iterable[int]) -> dict[int, Practitioner]:
    ids = set(ids)
    if not ids:
        return {}
    rows = await session.scalars(
        select(Practitioner).where(Practitioner.id.in_(ids), Practitioner.active.is_(True))
    )
    return {p.id: p for p in rows.all()}
