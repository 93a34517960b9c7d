"""Property: on any roster, every slot an endpoint offers is bookable, and nothing bookable hides.

Hypothesis draws rosters (titulars, adjoints with or without authorisation dates,
teleconsultation sessions, absences written as rows over live sessions, some bookings)
and then asks the real HTTP API: the free-slot list, the SAS Slot search and the
proposals must only offer what ``POST /api/appointments`` accepts, and a session-grid
instant that booking accepts must be in the free-slot list. The SAS search offers
exactly the free slots of sessions open to the SAS.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from app.accounts.models import Role
from app.core.timeutil import PARIS, at
from app.practitioners.models import Absence, DutySession, PractitionerStatus, SessionKind
from tests.conftest import _empty_tables
from tests.factories import make_patient, make_practitioner, make_user, token
from tests.sas.fake_sas import slot_search_params

DAYS = 3

session_st = st.fixed_dictionaries(
    {
        "day": st.integers(0, DAYS - 1),
        "hour": st.integers(8, 17),
        "hours": st.integers(1, 3),
        "open_to_sas": st.booleans(),
        "capacity": st.integers(1, 6),
    }
)
person_st = st.fixed_dictionaries(
    {
        "slot_minutes": st.sampled_from([15, 20, 30]),
        "active": st.sampled_from([True, True, True, False]),
        "sessions": st.lists(session_st, max_size=3),
    }
)
adjoint_st = st.fixed_dictionaries(
    {
        "titular": st.integers(0, 1),
        "authorisation": st.tuples(st.integers(-3, 2), st.integers(0, 3)),
        "slot_minutes": st.sampled_from([15, 20, 30]),
        "sessions": st.lists(session_st, max_size=3),
    }
)
absence_st = st.fixed_dictionaries(
    {
        "person": st.integers(0, 3),
        "day": st.integers(0, DAYS - 1),
        "hour": st.integers(8, 18),
        "hours": st.integers(1, 5),
    }
)
probe_st = st.tuples(st.integers(0, 20), st.integers(0, 20))  # (session index, grid step)
roster_st = st.fixed_dictionaries(
    {
        "titulars": st.lists(person_st, min_size=1, max_size=2),
        "adjoints": st.lists(adjoint_st, max_size=2),
        "absences": st.lists(absence_st, max_size=3),
        "bookings": st.lists(probe_st, max_size=3),
        "probes": st.lists(probe_st, min_size=1, max_size=4),
        "sample": st.lists(st.integers(0, 200), min_size=1, max_size=3),
    }
)


async def _build(db, roster: dict, today: dt.date) -> tuple[list, list[DutySession]]:
    people = []
    for i, t in enumerate(roster["titulars"]):
        people.append(
            await make_practitioner(
                db,
                family_name=f"Titulaire{i}",
                teleconsultation_slot_minutes=t["slot_minutes"],
                active=t["active"],
            )
        )
    plans = list(roster["titulars"])
    for i, a in enumerate(roster["adjoints"]):
        titular = people[a["titular"] % len(roster["titulars"])]
        auth = a["authorisation"]
        people.append(
            await make_practitioner(
                db,
                family_name=f"Adjoint{i}",
                status=PractitionerStatus.adjoint,
                titular_id=titular.id,
                authorisation_start=today + dt.timedelta(days=auth[0]),
                authorisation_end=today + dt.timedelta(days=auth[0] + auth[1]),
                teleconsultation_slot_minutes=a["slot_minutes"],
            )
        )
        plans.append(a)
    sessions: list[DutySession] = []
    for person, plan in zip(people, plans, strict=True):
        taken: set[tuple[int, int]] = set()
        for s in plan["sessions"]:
            hours = set(range(s["hour"], s["hour"] + s["hours"]))
            if any((s["day"], h) in taken for h in hours):
                continue  # a practitioner's sessions never overlap
            taken |= {(s["day"], h) for h in hours}
            day = today + dt.timedelta(days=s["day"])
            # Written as rows: the roster may hold what the declaration rules would refuse
            # today (e.g. an adjoint session before the titular's absence); slots must not.
            duty = DutySession(
                practitioner_id=person.id,
                date=day,
                kind=SessionKind.teleconsultation,
                start_at=at(day, dt.time(s["hour"])),
                end_at=at(day, dt.time(s["hour"] + s["hours"])),
                capacity=s["capacity"],
                open_to_sas=s["open_to_sas"],
            )
            db.add(duty)
            sessions.append(duty)
    for a in roster["absences"]:
        person = people[a["person"] % len(people)]
        day = today + dt.timedelta(days=a["day"])
        start = at(day, dt.time(a["hour"]))
        db.add(
            Absence(
                practitioner_id=person.id,
                start_at=start,
                end_at=start + dt.timedelta(hours=a["hours"]),
                reason="test",
            )
        )
    await db.commit()
    return people, sessions


def _grid(duty: DutySession, minutes: int, step: int) -> tuple[dt.datetime, dt.datetime]:
    start = duty.start_at + dt.timedelta(minutes=minutes * step)
    return start, start + dt.timedelta(minutes=minutes)


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # shrinking a slow async example takes minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(roster=roster_st)
async def test_every_offered_slot_is_bookable_and_nothing_bookable_is_hidden(
    app, client, db, clock, fhir, roster
):
    await _empty_tables(app)
    db.expunge_all()
    now = clock()
    today = now.astimezone(PARIS).date()
    await make_user(db, "coordination", Role.coordinator)
    staff = await token(client, "coordination")
    people, sessions = await _build(db, roster, today)
    minutes = {p.id: p.teleconsultation_slot_minutes for p in people}
    patient = await make_patient(db)
    created = await client.post(
        "/api/requests",
        json={
            "patient_id": patient.id,
            "reason": "Fièvre",
            "urgency": "within_48h",
            "modality": "teleconsultation",
        },
        headers=staff,
    )
    assert created.status_code == 201, created.text
    request_id = created.json()["request"]["id"]

    async def attempt(pid: int, start: dt.datetime, end: dt.datetime, keep: bool = False) -> bool:
        response = await client.post(
            "/api/appointments",
            json={
                "request_id": request_id,
                "practitioner_id": pid,
                "start_at": start.isoformat(),
                "end_at": end.isoformat(),
                "kind": "teleconsultation",
                "deadline_override_reason": "propriété",
                # One patient for every booking here: the same-day guard is not under test.
                "confirm_same_day": True,
            },
            headers=staff,
        )
        assert response.status_code in (201, 409), response.text
        if response.status_code != 201:
            return False
        if not keep:  # cancelled by the platform: the request waits again, the slot is free
            cancel = await client.post(
                f"/api/appointments/{response.json()['id']}/cancel",
                json={"reason": "test", "by_patient": False},
                headers=staff,
            )
            assert cancel.status_code == 200, cancel.text
        return True

    # Some bookings already held (each for its own request).
    for index, step in roster["bookings"]:
        if not sessions:
            break
        duty = sessions[index % len(sessions)]
        start, end = _grid(duty, minutes[duty.practitioner_id], step)
        if start >= now and end <= duty.end_at:
            if await attempt(duty.practitioner_id, start, end, keep=True):
                again = await client.post(
                    "/api/requests",
                    json={"patient_id": patient.id, "reason": "Toux", "urgency": "within_48h"},
                    headers=staff,
                )
                request_id = again.json()["request"]["id"]

    # What the endpoints offer.
    free: dict[tuple[int, dt.datetime], dict] = {}
    for p in people:
        response = await client.get(
            f"/api/practitioners/{p.id}/free-slots",
            params={"from": today.isoformat(), "days": DAYS},
            headers=staff,
        )
        assert response.status_code == 200, response.text
        for s in response.json():
            free[(p.id, dt.datetime.fromisoformat(s["start_at"]))] = {**s, "pid": p.id}
    search = await client.get(
        "/fhir/Slot",
        params=slot_search_params(
            [f"8{p.rpps}" for p in people],
            at(today, dt.time(0)).isoformat(timespec="milliseconds"),
            at(today + dt.timedelta(days=DAYS), dt.time(0)).isoformat(timespec="milliseconds"),
        ),
        headers=fhir,
    )
    assert search.status_code == 200, search.text
    owner = {duty.id: duty.practitioner_id for duty in sessions}
    sas = {
        # A timed slot's id is "vr-<session id>-<UTC minute>" (app/sas/slots.py).
        (owner[int(r["id"].split("-")[1])], dt.datetime.fromisoformat(r["start"]))
        for e in search.json().get("entry", [])
        if (r := e["resource"])["resourceType"] == "Slot"
    }
    proposals = await client.get(f"/api/requests/{request_id}/proposals", headers=staff)
    assert proposals.status_code == 200, proposals.text
    offered = {
        (o["practitioner_id"], dt.datetime.fromisoformat(o["start_at"]))
        for o in proposals.json()["options"]
    }

    # The SAS sees exactly the free slots of the sessions open to it; proposals are free slots.
    assert sas == {key for key, s in free.items() if s["open_to_sas"]}
    assert offered <= set(free)

    # Every offered slot is bookable (the SAS's and the proposals', and a sample of the rest).
    listed = sorted(free)
    sample = {listed[i % len(listed)] for i in roster["sample"]} if listed else set()
    for pid, start in sorted(sas | offered | sample):
        end = start + dt.timedelta(minutes=minutes[pid])
        assert await attempt(pid, start, end), (pid, start)

    # Nothing bookable is hidden: a grid instant booking accepts is in the free-slot list.
    for index, step in roster["probes"]:
        if not sessions:
            break
        duty = sessions[index % len(sessions)]
        start, end = _grid(duty, minutes[duty.practitioner_id], step % 12)
        if start < now or end > duty.end_at:
            continue
        bookable = await attempt(duty.practitioner_id, start, end)
        assert bookable == ((duty.practitioner_id, start) in free), (duty.practitioner_id, start)
