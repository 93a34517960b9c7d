"""A practitioner's day (sessions and the appointments in them, in order) and absences."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.agenda import grid as agenda_grid
from app.appointments import queries as appointments_queries
from app.appointments import service as appointments_service
from app.audit import service as audit_service
from app.core.errors import Conflict
from app.core.timeutil import PARIS, aware, day_bounds, french_date
from app.patients.models import Patient
from app.practitioners import changes as practitioner_changes
from app.practitioners import eligibility
from app.practitioners import service as practitioners_service
from app.practitioners.models import Absence, DutySession, Practitioner, SessionKind
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
    # One trace per patient shown, flushed together (one INSERT, not one per patient).
    await audit_service.record_reads(
        session=session,
        actor=actor,
        action="agenda",
        patient_ids=list(patients),
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
            f"{practitioner_changes.count_taken(len(booked))} sur cette période : "
            "déplacez-les ou annulez-les avant de déclarer l'absence.",
            appointment_ids=booked,
        )
    return await practitioners_service.add_absence(
        session=session, practitioner=practitioner, absence_in=absence_in
    )


async def grid(
    *,
    session: AsyncSession,
    practitioners: Sequence[Practitioner],
    days: Sequence[dt.date],
    actor: User,
    now: dt.datetime,
    home_window_minutes: int,
) -> tuple[list[agenda_grid.Column], agenda_grid.Axis]:
    """The agenda grid: one column per GP (one day) or per day (one GP), laid on one axis.

    Sessions are bands, appointments blocks, and the free times are those the roster's
    rules (``eligibility``) would book: timed slots at each GP's length, home-visit
    windows of ``home_window_minutes`` while the round has room. Reading the grid is
    traced per patient, as the day view is.
    """
    start, end = day_bounds(days[0])[0], day_bounds(days[-1])[1]
    ids = [p.id for p in practitioners]
    roster = await eligibility.load(
        session,
        start=start,
        end=end,
        practitioner_ids=ids,
        held=appointments_queries.held_in_sessions,
    )
    appointments = await appointments_queries.in_period(
        session, practitioner_ids=ids, start=start, end=end
    )
    patients, reasons = await appointments_queries.patients_and_reasons(session, appointments)
    await audit_service.record_reads(
        session=session,
        actor=actor,
        action="agenda",
        patient_ids=sorted(patients),
        detail={"date": days[0].isoformat(), "days": len(days)},
    )
    free = [
        *eligibility.free_slots(
            roster, kind=SessionKind.teleconsultation, start=start, end=end, now=now
        ),
        *eligibility.free_slots(roster, kind=SessionKind.practice, start=start, end=end, now=now),
        *_free_windows(roster, minutes=home_window_minutes, now=now),
    ]
    sessions = [s for s in roster.offered if s.practitioner_id in set(ids)]
    one_gp = len(practitioners) == 1 and len(days) > 1
    columns: list[agenda_grid.Column] = []
    for practitioner in practitioners:
        for day in days:
            mine = [
                s
                for s in sessions
                if s.practitioner_id == practitioner.id
                and s.start_at.astimezone(PARIS).date() == day
            ]
            if not mine and not one_gp:
                continue
            column = agenda_grid.Column(
                key=f"{practitioner.id}-{day.isoformat()}",
                title=practitioner.display_name if not one_gp else french_date(day),
                practitioner_id=practitioner.id,
                day=day,
            )
            held = roster.held
            for duty in mine:
                slots = [f for f in free if f[0].id == duty.id]
                column.bands.append(
                    agenda_grid.Placed(
                        "band",
                        duty.start_at,
                        duty.end_at,
                        {
                            "id": duty.id,
                            "kind": duty.kind,
                            "start_at": duty.start_at,
                            "end_at": duty.end_at,
                            "capacity": duty.capacity,
                            "held": len(held.get(duty.id, [])),
                            "free": len(slots),
                            "open_to_sas": duty.open_to_sas,
                        },
                    )
                )
                column.items += [
                    agenda_grid.Placed(
                        "free",
                        slot_start,
                        slot_end,
                        {
                            "practitioner_id": practitioner.id,
                            "session_id": duty.id,
                            "kind": duty.kind,
                            "start_at": slot_start.astimezone(PARIS),
                            "end_at": slot_end.astimezone(PARIS),
                        },
                    )
                    for _, slot_start, slot_end in slots
                ]
                for a in appointments:
                    if a.session_id != duty.id:
                        continue
                    shown_start, shown_end = a.start_at, a.end_at
                    if a.kind == SessionKind.home_visit and a.planned_arrival is not None:
                        # The visit where the round puts it; its window is written on it.
                        shown_start = a.planned_arrival
                        shown_end = shown_start + dt.timedelta(minutes=a.visit_minutes or 30)
                    column.items.append(
                        agenda_grid.Placed(
                            "appt",
                            shown_start,
                            shown_end,
                            {
                                "id": a.id,
                                "kind": a.kind,
                                "status": a.status,
                                "start_at": a.start_at,
                                "end_at": a.end_at,
                                "planned_arrival": a.planned_arrival,
                                "route_order": a.route_order,
                                "origin": a.origin,
                                "practitioner_id": a.practitioner_id,
                                "patient": _patient_brief(patients.get(a.patient_id)),
                                "reason": reasons.get(a.request_id),
                                "request_id": a.request_id,
                            },
                        )
                    )
            columns.append(column)
    axis = agenda_grid.lay_out(columns)
    return columns, axis


def _free_windows(
    roster: eligibility.Roster, *, minutes: int, now: dt.datetime
) -> list[tuple[DutySession, dt.datetime, dt.datetime]]:
    """Home-visit arrival windows the roster's rules accept (capacity, presence).

    Whether the round can still reach the patient in the window is the planner's answer,
    given at booking (``rounds.proposals.book_proposal``).
    """
    step = dt.timedelta(minutes=minutes)
    out = []
    for duty in roster.sessions_of_kind(SessionKind.home_visit):
        practitioner = roster.people.get(duty.practitioner_id)
        if practitioner is None:
            continue
        cursor = duty.start_at
        while cursor + step <= duty.end_at:
            if cursor >= now and (
                eligibility.slot_refusal(
                    roster, practitioner, SessionKind.home_visit, cursor, cursor + step
                )[1]
                is None
            ):
                out.append((duty, cursor, cursor + step))
            cursor += step
    return out
