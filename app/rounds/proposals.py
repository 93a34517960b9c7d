"""Live proposals for a request, and booking one of them through the core booking rules.

Home visits: ``scheduler.propose`` inserts the request into each day's plan in
force, keeping every promised window. Teleconsultations (and other timed
kinds): ``appointments_service.free_slots`` filtered by the adjoint rule and
the patient's language, ranked by earliness (deadline slack), continuity and
the GP's load of the day.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.appointments import service as appointments_service
from app.appointments.models import ACTIVE_STATUSES, Appointment
from app.appointments.schemas import AppointmentOut, BookingIn
from app.core.errors import Conflict
from app.core.timeutil import PARIS, WEEKDAYS_FR, day_bounds
from app.patients.models import Patient
from app.practitioners import service as practitioners_service
from app.practitioners.models import DutySession, Practitioner, SessionKind
from app.requests import service as requests_service
from app.requests.models import CareRequest
from app.rounds import holds as holds_service
from app.rounds import replans
from app.rounds import service as rounds_service
from app.rounds.instance import (
    DAY_MINUTES,
    DayData,
    appointment_of,
    instant,
    language,
    load_day,
    location,
    minutes,
    previous_practitioner,
    urgency,
)
from app.rounds.models import RoundRoute
from app.rounds.planner import Planner
from app.rounds.schemas import (
    ProposalBookingOut,
    ProposalChoice,
    ProposalOut,
    ProposalsOut,
)
from scheduler import (
    Parameters,
    Proposal,
    TravelTimeProvider,
    Urgency,
    Visit,
    Window,
    propose,
)

LANGUAGES_FR = {"en": "anglais", "ar": "arabe", "es": "espagnol", "pt": "portugais"}
# Ranking weights, in minutes of travel: how much waiting an hour costs, the continuity bonus.
WAIT_WEIGHT = {Urgency.SAME_DAY: 0.2, Urgency.WITHIN_24H: 0.1, Urgency.WITHIN_48H: 0.05}
CONTINUITY_BONUS = 10.0
LOAD_WEIGHT = 2.0
# A GP whose round holds an overlapping window for another caller comes after the free
# ones (in minutes of travel, per hold): concurrent callers get diverse options.
HOLD_PENALTY = 60.0
# Options at other times shown beside the best ones (a choice of times).
OTHER_TIMES = 4
# Slots kept per GP and day before holds are applied (a held one gives way to the next).
SLOTS_PER_DAY = 4


def _hhmm(value: dt.datetime) -> str:
    return value.astimezone(PARIS).strftime("%H:%M")


def _label(name: str, start: dt.datetime, end: dt.datetime, kind: SessionKind, added: float) -> str:
    day = WEEKDAYS_FR[start.astimezone(PARIS).weekday()]
    tail = (
        f"+{round(added)} min de trajet" if kind == SessionKind.home_visit else "téléconsultation"
    )
    return f"{name}, {day} {_hhmm(start)}–{_hhmm(end)}, {tail}"


def _slack_text(slack: int | None) -> str:
    if slack is None:
        return ""
    hours, mins = divmod(abs(slack), 60)
    if slack < 0:
        return f" ; dépasse l'échéance de {hours} h {mins:02d}"
    return f" ; {hours} h {mins:02d} avant l'échéance"


def check_open(care_request: CareRequest) -> None:
    """Proposals and bookings only for a request still waiting for an appointment."""
    appointments_service.check_request_open(care_request)


#: Days searched past the deadline when nothing holds it (booked with a derogation reason).
DAYS_PAST_DEADLINE = 2


def _dates(
    care_request: CareRequest, now: dt.datetime, planner: Planner, beyond: bool = False
) -> list[dt.date]:
    today = now.astimezone(PARIS).date()
    if care_request.deadline is not None and care_request.deadline >= now:
        last = care_request.deadline.astimezone(PARIS).date()
        if beyond:
            last += dt.timedelta(days=DAYS_PAST_DEADLINE)
    else:
        last = today + dt.timedelta(days=planner.settings.proposal_days_without_deadline - 1)
    last = min(last, today + dt.timedelta(days=6))
    return [today + dt.timedelta(days=i) for i in range((last - today).days + 1)]


def _day_proposals(
    day: DayData, visit: Visit, k: int, params: Parameters, travel: TravelTimeProvider
) -> list[Proposal]:
    plan = rounds_service.plan_in_force(day, params, travel)
    return propose(day.instance, visit, k, plan=plan, params=params, travel=travel)


async def candidates(
    *,
    session: AsyncSession,
    care_request: CareRequest,
    k: int,
    planner: Planner,
    now: dt.datetime,
    beyond: bool = False,
) -> list[tuple[float, ProposalOut]]:
    """Every option found for a request (scored, lower is better), holds not yet applied.

    ``beyond``: nothing holds the deadline; search the next days too (each option then
    says how late it is, and booking asks for a derogation reason).
    """
    patient = await session.get(Patient, care_request.patient_id)
    assert patient is not None
    preferred = await previous_practitioner(session=session, patient_id=patient.id, before=now)
    if preferred is None and patient.medecin_traitant_id is not None:
        preferred = patient.medecin_traitant_id
    kind = care_request.modality or SessionKind.teleconsultation
    if kind == SessionKind.home_visit:
        return await _visit_options(
            session, care_request, patient, preferred, k, planner, now, beyond
        )
    return await _slot_options(
        session, care_request, patient, preferred, kind, planner, now, beyond
    )


async def _held(
    session: AsyncSession,
    care_request: CareRequest,
    planner: Planner,
    now: dt.datetime,
    beyond: bool = False,
) -> list[holds_service.Held]:
    last = _dates(care_request, now, planner, beyond)[-1]
    return await holds_service.held_by_others(
        session=session, request_id=care_request.id, start=now, end=day_bounds(last)[1], now=now
    )


def pick(
    found: list[tuple[float, ProposalOut]], held: list[holds_service.Held], k: int
) -> list[ProposalOut]:
    """The k best options once other callers' holds are applied.

    A held slot is not offered (the GP's next free slot is); a GP whose round holds an
    overlapping window for another caller is ranked after the free ones.
    """
    ranked: list[tuple[float, ProposalOut]] = []
    seen: set[tuple[int, dt.date]] = set()
    for score, option in sorted(found, key=lambda item: item[0]):
        key = (option.practitioner_id, option.date)
        if key in seen:
            continue
        overlaps = sum(h.overlaps(key[0], option.start_at, option.end_at) for h in held)
        if option.kind != SessionKind.home_visit and overlaps:
            continue
        seen.add(key)
        ranked.append((score + HOLD_PENALTY * overlaps, option))
    ranked.sort(key=lambda item: item[0])
    if ranked and ranked[0][1].kind == SessionKind.home_visit:
        # Rounds: overlapping windows are penalised per hold above, which is what keeps
        # concurrent callers' options diverse; the other times come in ``other_times``.
        return [option for _score, option in ranked[:k]]
    # Timed slots: a real choice of times. The best option leads, then options at a time
    # not yet offered come before another GP at a time already offered (never five GPs at
    # 14:00 when 14:15 or tomorrow exist); held slots are already left out.
    chosen: list[ProposalOut] = []
    times: set[dt.datetime] = set()
    for new_time_only in (True, False):
        for _score, option in ranked:
            if len(chosen) >= k:
                break
            if any(option is c for c in chosen) or (new_time_only and option.start_at in times):
                continue
            chosen.append(option)
            times.add(option.start_at)
    return chosen


def other_times(
    found: list[tuple[float, ProposalOut]],
    chosen: list[ProposalOut],
    held: list[holds_service.Held],
    n: int,
) -> list[ProposalOut]:
    """Up to n more options at times the best ones do not offer (other windows, slots or
    days), best first: the caller gets a choice of times, not five GPs at 10:00.

    Not held (holds keep the best ones diverse between callers); booking one goes
    through the same rules.
    """
    times = {o.start_at for o in chosen}
    days = {o.date for o in chosen}
    out: list[ProposalOut] = []
    ranked = sorted(found, key=lambda item: item[0])
    # First the best option of each day not offered yet (tomorrow…), then other times.
    for new_day_only in (True, False):
        for _score, option in ranked:
            if len(out) >= n:
                break
            if option.start_at in times or any(option is c for c in chosen):
                continue
            if new_day_only and option.date in days:
                continue
            if any(
                h.overlaps(option.practitioner_id, option.start_at, option.end_at) for h in held
            ):
                continue
            times.add(option.start_at)
            days.add(option.date)
            out.append(option)
    out.sort(key=lambda o: o.start_at)
    return out


async def options(
    *,
    session: AsyncSession,
    care_request: CareRequest,
    k: int,
    planner: Planner,
    now: dt.datetime,
) -> list[ProposalOut]:
    """The k best options for a request, across days up to its deadline."""
    found = await candidates(
        session=session, care_request=care_request, k=k, planner=planner, now=now
    )
    return pick(found, await _held(session, care_request, planner, now), k)


async def _visit_options(
    session: AsyncSession,
    care_request: CareRequest,
    patient: Patient,
    preferred: int | None,
    k: int,
    planner: Planner,
    now: dt.datetime,
    beyond: bool = False,
) -> list[tuple[float, ProposalOut]]:
    params = planner.params(time_limit_s=planner.settings.rounds_replan_time_limit_s)
    need = urgency(care_request)
    wanted_language = language(patient)
    found: list[tuple[float, ProposalOut]] = []
    today = now.astimezone(PARIS).date()
    for date in _dates(care_request, now, planner, beyond):
        day = await load_day(
            session=session, date=date, home_visit_minutes=planner.home_visit_minutes
        )
        if not day.rounds_sessions:
            continue
        earliest = (
            minutes(now, date) + planner.settings.proposal_lead_minutes if date == today else 0
        )
        deadline = None
        if not beyond and care_request.deadline is not None and care_request.deadline >= now:
            if care_request.deadline.astimezone(PARIS).date() == date:
                deadline = minutes(care_request.deadline, date)
        if earliest >= DAY_MINUTES - 1 or (deadline is not None and deadline < earliest):
            continue
        home = next(iter(day.practitioners.values()))
        lat, lon = location(patient, home, day.communes)
        visit = Visit(
            id=f"r{care_request.id}",
            lat=lat,
            lon=lon,
            urgency=need,
            service_minutes=care_request.visit_minutes or planner.home_visit_minutes,
            window=Window(earliest, DAY_MINUTES - 1),
            deadline=deadline,
            language=wanted_language,
            preferred_practitioner_id=str(preferred) if preferred else None,
        )
        props = await planner.run(
            _day_proposals,
            day,
            visit,
            len(day.rounds_sessions),
            params,
            planner.travel,
            time_limit_s=params.time_limit_s,
        )
        for p in props:
            option = _visit_option(day, p, care_request, wanted_language, now)
            if option is not None:
                wait = (option.start_at - now).total_seconds() / 60
                score = p.added_travel_minutes + WAIT_WEIGHT[need] * wait
                found.append((score - (CONTINUITY_BONUS if option.continuity else 0), option))
    return found


def _visit_option(
    day: DayData,
    p: Proposal,
    care_request: CareRequest,
    wanted_language: str | None,
    now: dt.datetime,
) -> ProposalOut | None:
    pid = int(p.practitioner_id)
    duty = day.rounds_sessions.get(pid)
    if duty is None:
        return None
    lo, hi = minutes(duty.start_at, day.date), minutes(duty.end_at, day.date)
    if not lo <= p.arrival <= hi:
        return None  # the booking rules want the window inside the GP's session
    window = Window(max(p.window.start, lo), min(p.window.end, hi))
    start, end = instant(day.date, window.start), instant(day.date, window.end)
    slack = (
        int((care_request.deadline - end).total_seconds() // 60) if care_request.deadline else None
    )
    gp = day.practitioners[pid]
    name = f"Dr {gp.family_name}"
    continuity = p.reason == "continuity"
    why = (
        "Médecin déjà vu par le patient (continuité des soins)"
        if continuity
        else "Plus petit détour dans sa tournée"
    )
    why += f", arrivée prévue vers {_hhmm(instant(day.date, p.arrival))}"
    if wanted_language:
        why += f" ; parle {LANGUAGES_FR.get(wanted_language, wanted_language)}"
    why += _slack_text(slack)
    return ProposalOut(
        practitioner_id=pid,
        practitioner_name=name,
        date=day.date,
        kind=SessionKind.home_visit,
        start_at=start,
        end_at=end,
        planned_arrival=instant(day.date, p.arrival),
        added_travel_minutes=p.added_travel_minutes,
        deadline_slack_minutes=slack,
        continuity=continuity,
        reason=p.reason,
        label=_label(name, start, end, SessionKind.home_visit, p.added_travel_minutes),
        why=why,
        session_id=duty.id,
        booking=ProposalChoice(
            practitioner_id=pid, kind=SessionKind.home_visit, start_at=start, end_at=end
        ),
    )


async def _slot_options(
    session: AsyncSession,
    care_request: CareRequest,
    patient: Patient,
    preferred: int | None,
    kind: SessionKind,
    planner: Planner,
    now: dt.datetime,
    beyond: bool = False,
) -> list[tuple[float, ProposalOut]]:
    dates = _dates(care_request, now, planner, beyond)
    end = day_bounds(dates[-1])[1]
    if not beyond and care_request.deadline is not None and care_request.deadline >= now:
        end = min(end, care_request.deadline + dt.timedelta(seconds=1))
    slots = await appointments_service.free_slots(
        session=session, start=now, end=end, kind=kind, now=now
    )
    if not slots:
        return []
    # Every slot is bookable (``eligibility``): the people are only read for ranking.
    people = {
        p.id: p
        for p in (
            await session.scalars(
                select(Practitioner).where(
                    Practitioner.id.in_({d.practitioner_id for d, _s, _e in slots})
                )
            )
        ).all()
    }
    wanted_language = language(patient)
    if wanted_language:
        speakers = [s for s in slots if wanted_language in people[s[0].practitioner_id].languages]
        slots = speakers or slots
    loads = await _loads(session, {d.practitioner_id for d, _s, _e in slots}, now, end)
    need = urgency(care_request)
    best: dict[tuple[int, dt.date], list[tuple[float, ProposalOut]]] = {}
    for duty, start, stop in slots:
        pid, date = duty.practitioner_id, duty.date
        if len(best.setdefault((pid, date), [])) >= SLOTS_PER_DAY:
            continue  # slots come in time order: this GP's earliest few that day (holds)
        gp = people[pid]
        load = loads.get((pid, start.astimezone(PARIS).date()), 0)
        continuity = preferred == pid
        slack = (
            int((care_request.deadline - start).total_seconds() // 60)
            if care_request.deadline
            else None
        )
        name = f"Dr {gp.family_name}"
        why = (
            "Médecin déjà vu par le patient (continuité des soins)"
            if continuity
            else "Premier créneau libre de ce médecin"
            if not best[(pid, date)]
            else "Autre horaire de ce médecin"
        )
        why += f" ; {load} rendez-vous ce jour-là"
        if wanted_language and wanted_language in gp.languages:
            why += f" ; parle {LANGUAGES_FR.get(wanted_language, wanted_language)}"
        why += _slack_text(slack)
        wait = (start - now).total_seconds() / 60
        score = WAIT_WEIGHT[need] * wait + LOAD_WEIGHT * load
        best[(pid, date)].append(
            (
                score - (CONTINUITY_BONUS if continuity else 0),
                ProposalOut(
                    practitioner_id=pid,
                    practitioner_name=name,
                    date=date,
                    kind=kind,
                    start_at=start,
                    end_at=stop,
                    deadline_slack_minutes=slack,
                    continuity=continuity,
                    reason="continuity" if continuity else "earliest_slot",
                    label=_label(name, start, stop, kind, 0.0),
                    why=why,
                    session_id=duty.id,
                    booking=ProposalChoice(
                        practitioner_id=pid, kind=kind, start_at=start, end_at=stop
                    ),
                ),
            )
        )
    return [option for per_day in best.values() for option in per_day]


async def _loads(
    session: AsyncSession, ids: set[int], start: dt.datetime, end: dt.datetime
) -> dict[tuple[int, dt.date], int]:
    if not ids:
        return {}
    rows = (
        await session.execute(
            select(Appointment.practitioner_id, Appointment.start_at).where(
                Appointment.practitioner_id.in_(ids),
                Appointment.status.in_(ACTIVE_STATUSES),
                Appointment.start_at >= day_bounds(start.astimezone(PARIS).date())[0],
                Appointment.start_at < end,
            )
        )
    ).all()
    out: dict[tuple[int, dt.date], int] = {}
    for pid, at in rows:
        key = (pid, at.astimezone(PARIS).date())
        out[key] = out.get(key, 0) + 1
    return out


async def list_proposals(
    *,
    session: AsyncSession,
    request_id: int,
    k: int,
    actor: User,
    planner: Planner,
    now: dt.datetime,
    beyond: bool = False,
) -> ProposalsOut:
    """The options to read to the patient on the phone (409 for a closed request).

    ``beyond``: the options past the deadline (when none holds it), to book with a
    derogation reason.
    """
    care_request = await requests_service.get(session=session, request_id=request_id, actor=actor)
    check_open(care_request)
    everything = await candidates(
        session=session, care_request=care_request, k=k, planner=planner, now=now, beyond=beyond
    )
    if beyond and care_request.deadline is not None:
        everything = [
            (score, o)
            for score, o in everything
            if o.deadline_slack_minutes is not None and o.deadline_slack_minutes < 0
        ]
    found, held = await hold_best(
        session=session,
        care_request=care_request,
        everything=everything,
        k=k,
        planner=planner,
        now=now,
        beyond=beyond,
    )
    return ProposalsOut(
        request_id=care_request.id,
        kind=care_request.modality or SessionKind.teleconsultation,
        deadline=care_request.deadline,
        options=found,
        other_times=other_times(everything, found, held, OTHER_TIMES),
        message=None if found else "Aucune option avant l'échéance : élargir ou déroger.",
    )


async def hold_best(
    *,
    session: AsyncSession,
    care_request: CareRequest,
    everything: list[tuple[float, ProposalOut]],
    k: int,
    planner: Planner,
    now: dt.datetime,
    beyond: bool = False,
) -> tuple[list[ProposalOut], list[holds_service.Held]]:
    """The k best of ``everything`` once other callers' holds apply, held for this caller.

    Holds are read and written one caller at a time (a few milliseconds, the options
    already computed): the next caller sees these holds. ``everything`` was read before
    that lock, so a timed slot booked since (its holder's hold released by the booking)
    may still be in it: timed appointments are read again under the lock and left out
    like holds, so a shown option is never one already taken.
    """
    kind = care_request.modality or SessionKind.teleconsultation
    await holds_service.serialise(session, str(kind))
    held = await _held(session, care_request, planner, now, beyond)
    if kind != SessionKind.home_visit:
        last = _dates(care_request, now, planner, beyond)[-1]
        held += await holds_service.booked_timed(
            session=session, start=now, end=day_bounds(last)[1]
        )
    else:
        everything = await _room_left(session, everything, held)
    found = pick(everything, held, k)
    await holds_service.hold(
        session=session,
        request_id=care_request.id,
        options=[(o.practitioner_id, str(o.kind), o.start_at, o.end_at) for o in found],
        now=now,
        seconds=planner.settings.proposal_hold_seconds,
    )
    return found, held


async def _room_left(
    session: AsyncSession,
    everything: list[tuple[float, ProposalOut]],
    held: list[holds_service.Held],
) -> list[tuple[float, ProposalOut]]:
    """Home-visit options whose round still has room once other callers' holds count.

    A round (one session per GP and day) takes at most its ``capacity`` visits (and the
    GP's ``max_visits_per_morning``); each other
    caller holds at most one window of it. Counting only the booked visits, the last
    free place was shown to several callers and all but one got 409 ``session_full``
    (load benchmark, 2026-12-07): the holders keep their place, the others are shown
    other rounds.
    """
    ids = {o.session_id for _s, o in everything if o.session_id is not None}
    if not ids or not held:
        return everything
    # The round's room as the solver counts it (rounds/instance.py ``_gps``).
    rows = await session.execute(
        select(DutySession.id, DutySession.capacity, Practitioner.max_visits_per_morning)
        .join(Practitioner, Practitioner.id == DutySession.practitioner_id)
        .where(DutySession.id.in_(ids))
    )
    capacity = {sid: min(cap, most) for sid, cap, most in rows.all()}
    booked = await appointments_service.count_by_session(session=session, session_ids=list(ids))
    holders: dict[tuple[int, dt.date], int] = {}
    for h in held:
        if h.kind == SessionKind.home_visit:
            key = (h.practitioner_id, h.start_at.astimezone(PARIS).date())
            holders[key] = holders.get(key, 0) + 1
    return [
        (score, o)
        for score, o in everything
        if o.session_id is None
        or o.session_id not in capacity
        or booked.get(o.session_id, 0) + holders.get((o.practitioner_id, o.date), 0)
        < capacity[o.session_id]
    ]


async def _invalidated(
    *,
    session: AsyncSession,
    care_request: CareRequest,
    planner: Planner,
    now: dt.datetime,
    message: str,
    reason: str,
) -> Conflict:
    fresh = await options(session=session, care_request=care_request, k=5, planner=planner, now=now)
    return Conflict(
        message,
        code="proposal_invalidated",
        reason=reason,
        options=[o.model_dump(mode="json") for o in fresh],
    )


def _insertion(
    day: DayData, visit: Visit, params: Parameters, travel: TravelTimeProvider
) -> tuple[Proposal, list[str]] | None:
    """Insert a booked visit into its GP's round in force (no search, milliseconds).

    Returns the option (arrival, position) and that GP's order it was inserted into,
    or None when no position keeps every promise, the new one included.
    """
    assert visit.assigned_practitioner_id is not None
    plan = rounds_service.plan_in_force(day, params, travel)
    gp_key = visit.assigned_practitioner_id
    assigned = {v.id: v.assigned_practitioner_id for v in day.instance.visits}
    if any(assigned.get(d.visit_id) == gp_key for d in plan.dropped):
        # The plan we would insert into leaves out a visit already promised on this round:
        # its promise could not be checked, so this insertion cannot be vouched for.
        return None
    found = propose(day.instance, visit, 1, plan=plan, params=params, travel=travel)
    if not found:
        return None
    route = plan.route_of(visit.assigned_practitioner_id)
    return found[0], [s.visit_id for s in route.stops] if route else []


async def _lock_rounds_session(session: AsyncSession, choice: ProposalChoice) -> None:
    # Serialises bookings into one round (PostgreSQL row lock; SQLite locks on write).
    await session.scalar(
        select(DutySession.id)
        .where(
            DutySession.practitioner_id == choice.practitioner_id,
            DutySession.kind == SessionKind.home_visit,
            DutySession.cancelled.is_(False),
            DutySession.start_at <= choice.start_at,
            DutySession.end_at >= choice.end_at,
        )
        .with_for_update()
    )


async def _insert_visit(
    *,
    session: AsyncSession,
    care_request: CareRequest,
    patient: Patient,
    choice: ProposalChoice,
    planner: Planner,
) -> tuple[DayData, Proposal, list[str]] | None:
    """Check that the chosen window fits the GP's round in force, promises kept."""
    date = choice.start_at.astimezone(PARIS).date()
    await _lock_rounds_session(session, choice)
    day = await load_day(session=session, date=date, home_visit_minutes=planner.home_visit_minutes)
    gp = day.practitioners.get(choice.practitioner_id)
    if gp is None or choice.practitioner_id not in day.rounds_sessions:
        return None
    lat, lon = location(patient, gp, day.communes)
    promised = Window(minutes(choice.start_at, date), minutes(choice.end_at, date))
    probe = Visit(
        id=f"r{care_request.id}",
        lat=lat,
        lon=lon,
        urgency=urgency(care_request),
        service_minutes=care_request.visit_minutes or planner.home_visit_minutes,
        promised=promised,
        language=language(patient),
        assigned_practitioner_id=str(choice.practitioner_id),
    )
    params = planner.params(time_limit_s=planner.settings.rounds_replan_time_limit_s)
    found = await planner.run(
        _insertion, day, probe, params, planner.travel, time_limit_s=params.time_limit_s
    )
    if found is None:
        return None
    return day, found[0], found[1]


async def _publish_insertion(
    *,
    session: AsyncSession,
    day: DayData,
    appointment: Appointment,
    inserted: Proposal,
    order: list[str],
) -> None:
    """The round in force gains the new stop (the worker's re-plan re-times it later)."""
    appointment.planned_arrival = instant(day.date, inserted.arrival)
    appointment.route_order = inserted.position + 1
    if day.run is None:
        # No run yet: the order lives on the appointments (``load_day`` reads it back);
        # the stops after the new one move down a place.
        ids = [a for v in order if (a := appointment_of(v)) is not None]
        ids.insert(inserted.position, appointment.id)
        for n, aid in enumerate(ids, start=1):
            booked = day.appointments.get(aid)
            if booked is not None:
                booked.route_order = n
        return  # the worker's run makes the first stored plan
    pid = appointment.practitioner_id
    route = await session.scalar(
        select(RoundRoute).where(RoundRoute.run_id == day.run.id, RoundRoute.practitioner_id == pid)
    )
    ids = [a for v in order if (a := appointment_of(v)) is not None]
    ids.insert(inserted.position, appointment.id)
    old = {s["appointment_id"]: s for s in (route.stops if route else [])}
    stops = []
    for n, aid in enumerate(ids, start=1):
        stop = dict(old.get(aid, {}))
        stop.update(order=n, appointment_id=aid)
        if aid == appointment.id:
            stop.update(
                planned_arrival=appointment.planned_arrival.isoformat(),
                window_start=appointment.start_at.isoformat(),
                window_end=appointment.end_at.isoformat(),
                travel_minutes=inserted.added_travel_minutes,
            )
        stops.append(stop)
    if route is None:
        duty = day.rounds_sessions[pid]
        session.add(
            RoundRoute(
                run_id=day.run.id,
                date=day.date,
                practitioner_id=pid,
                depart_at=duty.start_at,
                back_at=duty.end_at,
                travel_minutes=inserted.added_travel_minutes,
                stops=stops,
            )
        )
    else:
        route.stops = stops


async def book_proposal(
    *,
    session: AsyncSession,
    request_id: int,
    choice: ProposalChoice,
    actor: User,
    planner: Planner,
    ctx: appointments_service.BookingContext,
) -> ProposalBookingOut:
    """Book a chosen option; if it no longer holds, 409 with fresh options.

    The request and its patient are read and locked once and handed to the one booking
    pipeline (``appointments_service.book``: rules, price, audit, event). A home visit
    is first inserted into its GP's round in force (promises hard, no solver search);
    the full re-plan of that morning runs afterwards in the worker (:mod:`replans`).
    Another caller's hold never refuses a booking: only booked visits count.
    """
    care_request, patient = await appointments_service.load_request(
        session=session, request_id=request_id, actor=actor
    )
    check_open(care_request)
    now = ctx.now
    start_at, end_at = choice.start_at, choice.end_at
    home_visit = choice.kind == SessionKind.home_visit
    gp = await practitioners_service.get(session=session, practitioner_id=choice.practitioner_id)
    inserted = None
    try:
        if home_visit:
            inserted = await _insert_visit(
                session=session,
                care_request=care_request,
                patient=patient,
                choice=choice,
                planner=planner,
            )
            if inserted is None:
                raise await _invalidated(
                    session=session,
                    care_request=care_request,
                    planner=planner,
                    now=now,
                    message="Cette option n'est plus possible (la tournée a changé) : "
                    "voici les options à jour.",
                    reason="round_changed",
                )
        appointment = await appointments_service.book(
            session=session,
            care_request=care_request,
            patient=patient,
            booking_in=BookingIn(
                request_id=care_request.id,
                practitioner_id=choice.practitioner_id,
                start_at=start_at,
                end_at=end_at,
                kind=choice.kind,
                deadline_override_reason=choice.deadline_override_reason,
                confirm_same_day=choice.confirm_same_day,
            ),
            actor=actor,
            ctx=ctx,
        )
    except Conflict as exc:
        if exc.extra.get("code") == "proposal_invalidated":
            raise
        reason = str(exc.extra.get("code", exc.code))
        if reason in ("redirected_15", "request_not_open", "after_deadline", "patient_same_day"):
            raise
        if home_visit and reason in ("session_full", "outside_session"):
            reason = "round_changed"  # the round filled up or moved since the option was read
        raise await _invalidated(
            session=session,
            care_request=care_request,
            planner=planner,
            now=now,
            message=f"{exc.message} Voici les options à jour.",
            reason=reason,
        ) from exc
    if inserted is not None:
        day, option, order = inserted
        await _publish_insertion(
            session=session, day=day, appointment=appointment, inserted=option, order=order
        )
        await replans.request_replan(session=session, date=day.date, now=now)
    await holds_service.release(session=session, request_id=care_request.id)
    what = "visite à domicile" if home_visit else "téléconsultation"
    day_name = WEEKDAYS_FR[start_at.astimezone(PARIS).weekday()]
    return ProposalBookingOut(
        appointment=AppointmentOut.model_validate(appointment),
        label=f"Dr {gp.family_name}, {day_name} {_hhmm(start_at)}–{_hhmm(end_at)}, {what}",
        run=None,
    )
