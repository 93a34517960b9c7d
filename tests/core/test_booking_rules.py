"""Booking rules: no double booking (even under concurrency), capacity, adjoints, sessions."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import func, select

from app.appointments.models import Appointment
from app.core.timeutil import PARIS, at
from tests.factories import make_patient


async def _request(client, world, db, **patient_overrides):
    patient = await make_patient(db, **patient_overrides)
    response = await client.post(
        "/api/requests",
        json={"patient_id": patient.id, "reason": "Otite", "urgency": "within_48h"},
        headers=world.secretary,
    )
    assert response.status_code == 201, response.text
    return response.json()["request"]["id"]


async def _book(client, headers, request_id, practitioner_id, start, **extra):
    return await client.post(
        "/api/appointments",
        json={
            "request_id": request_id,
            "practitioner_id": practitioner_id,
            "start_at": start.isoformat(),
            **extra,
        },
        headers=headers,
    )


async def test_double_booking_refused(client, world, db):
    start = at(world.today, dt.time(15), PARIS)
    first = await _request(client, world, db)
    second = await _request(client, world, db, family_name="Durand", phone="+33639980002")
    assert (await _book(client, world.secretary, first, world.titular.id, start)).status_code == 201
    response = await _book(
        client,
        world.secretary,
        second,
        world.titular.id,
        start + dt.timedelta(minutes=5),
        end_at=(start + dt.timedelta(minutes=20)).isoformat(),
    )
    assert response.status_code == 409
    assert response.json()["code"] == "slot_taken"
    assert "déjà pris" in response.json()["message"]


async def test_twenty_concurrent_attempts_one_wins(client, world, db):
    start = at(world.today, dt.time(16), PARIS)
    request_ids = [
        await _request(client, world, db, family_name=f"Patient{i}", phone=f"+336399801{i:02d}")
        for i in range(20)
    ]
    responses = await asyncio.gather(
        *(_book(client, world.secretary, rid, world.titular.id, start) for rid in request_ids)
    )
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1, codes
    assert codes.count(409) == 19, [r.text for r in responses if r.status_code != 201][:3]
    held = await db.scalar(
        select(func.count(Appointment.id)).where(
            Appointment.practitioner_id == world.titular.id,
            Appointment.start_at == start,
            Appointment.status == "booked",
        )
    )
    assert held == 1


async def test_database_refuses_overlap_even_without_the_service(db, world):
    """The exclusion constraint / trigger holds when code bypasses the rules."""
    from app.appointments.models import AppointmentStatus, Origin
    from app.practitioners.models import DutySession, SessionKind
    from app.requests.models import CareRequest, Channel, RequestStatus

    patient = await make_patient(db)
    duty = await db.scalar(
        select(DutySession).where(
            DutySession.practitioner_id == world.titular.id,
            DutySession.kind == SessionKind.teleconsultation,
            DutySession.date == world.today,
        )
    )
    now = at(world.today, dt.time(9), PARIS)
    rows = []
    for _ in range(2):
        req = CareRequest(
            patient_id=patient.id,
            channel=Channel.phone,
            received_at=now,
            reason="x",
            status=RequestStatus.scheduled,
            status_changed_at=now,
        )
        db.add(req)
        await db.flush()
        rows.append(req)
    start = at(world.today, dt.time(17), PARIS)
    common = dict(
        patient_id=patient.id,
        practitioner_id=world.titular.id,
        session_id=duty.id,
        kind=SessionKind.teleconsultation,
        status=AppointmentStatus.booked,
        origin=Origin.secretariat,
        status_changed_at=now,
    )
    db.add(
        Appointment(
            request_id=rows[0].id, start_at=start, end_at=start + dt.timedelta(minutes=15), **common
        )
    )
    await db.flush()
    db.add(
        Appointment(
            request_id=rows[1].id,
            start_at=start + dt.timedelta(minutes=5),
            end_at=start + dt.timedelta(minutes=20),
            **common,
        )
    )
    failed = False
    try:
        await db.flush()
    except Exception as exc:  # IntegrityError on PostgreSQL, trigger abort on SQLite
        failed = "ex_appointments_no_overlap" in str(exc)
    assert failed
    await db.rollback()


async def test_capacity_never_exceeded(client, world, db):
    # Dr Bernard's teleconsultation sessions hold 3 appointments.
    start = at(world.today, dt.time(14), PARIS)
    results = []
    for i in range(5):
        rid = await _request(client, world, db, family_name=f"Cap{i}", phone=f"+336399802{i:02d}")
        results.append(
            await _book(
                client,
                world.secretary,
                rid,
                world.other_titular.id,
                start + dt.timedelta(minutes=30 * i),
            )
        )
    assert [r.status_code for r in results] == [201, 201, 201, 409, 409]
    assert results[3].json()["code"] == "session_full"


async def test_home_visits_limited_by_visits_per_morning(client, world, db):
    start = at(world.today, dt.time(10), PARIS)
    codes = []
    for i in range(7):
        rid = await _request(
            client, world, db, family_name=f"Visite{i}", phone=f"+336399803{i:02d}"
        )
        response = await _book(
            client, world.secretary, rid, world.titular.id, start, kind="home_visit"
        )
        codes.append(response.status_code)
    assert codes == [201] * 6 + [409]


async def test_adjoint_refused_without_titular_on_duty(client, world, db):
    # The titular is absent on Tuesday afternoon: the adjoint cannot see patients then.
    tuesday = world.today + dt.timedelta(days=1)
    response = await client.post(
        f"/api/practitioners/{world.titular.id}/absences",
        json={
            "start_at": at(tuesday, dt.time(13), PARIS).isoformat(),
            "end_at": at(tuesday, dt.time(21), PARIS).isoformat(),
            "reason": "Formation",
        },
        headers=world.coordinator,
    )
    assert response.status_code == 201, response.text
    rid = await _request(client, world, db)
    response = await _book(
        client, world.secretary, rid, world.adjoint.id, at(tuesday, dt.time(15), PARIS)
    )
    assert response.status_code == 409
    assert response.json()["code"] == "adjoint_without_titular"
    # The same adjoint is bookable when the titular works.
    response = await _book(
        client, world.secretary, rid, world.adjoint.id, at(world.today, dt.time(15), PARIS)
    )
    assert response.status_code == 201, response.text
    assert response.json()["billed_under_id"] == world.titular.id


async def test_adjoint_refused_outside_authorisation(client, world, db):
    rid = await _request(client, world, db)
    far = world.today + dt.timedelta(days=1)
    from app.practitioners.models import Practitioner

    adjoint = await db.get(Practitioner, world.adjoint.id)
    adjoint.authorisation_end = world.today
    await db.commit()
    response = await _book(
        client, world.secretary, rid, world.adjoint.id, at(far, dt.time(15), PARIS)
    )
    assert response.status_code == 409
    assert response.json()["code"] == "adjoint_not_authorised"


async def test_booking_outside_any_session_refused(client, world, db):
    rid = await _request(client, world, db)
    response = await _book(
        client, world.secretary, rid, world.titular.id, at(world.today, dt.time(20, 30), PARIS)
    )
    assert response.status_code == 409
    assert response.json()["code"] == "outside_session"
    # A home-visit time is not a teleconsultation session either.
    response = await _book(
        client, world.secretary, rid, world.titular.id, at(world.today, dt.time(11), PARIS)
    )
    assert response.status_code == 409


async def test_reschedule_and_outcome(client, world, db, clock):
    rid = await _request(client, world, db)
    response = await _book(
        client, world.secretary, rid, world.titular.id, at(world.today, dt.time(14), PARIS)
    )
    appointment_id = response.json()["id"]
    response = await client.post(
        f"/api/appointments/{appointment_id}/reschedule",
        json={"start_at": at(world.today, dt.time(18), PARIS).isoformat()},
        headers=world.secretary,
    )
    assert response.status_code == 200, response.text
    assert dt.datetime.fromisoformat(response.json()["start_at"]) == at(
        world.today, dt.time(18), PARIS
    )
    clock.set(at(world.today, dt.time(18, 5), PARIS))  # « vu » from the start
    response = await client.post(
        f"/api/appointments/{appointment_id}/status", json={"status": "fulfilled"}, headers=world.gp
    )
    assert response.status_code == 200
    assert response.json()["status"] == "fulfilled"
    response = await client.post(
        f"/api/appointments/{appointment_id}/status", json={"status": "noshow"}, headers=world.gp
    )
    assert response.status_code == 409


async def test_regulator_has_no_booking_rights_through_the_api(client, world, db):
    """Regulators book only through the SAS flow (tests/sas); the staff API refuses them."""
    patient = await make_patient(db)
    response = await client.post(
        "/api/patients",
        json={"family_name": "Sas", "given_name": "Alix", "birth_date": "1990-02-03"},
        headers=world.regulator,
    )
    assert response.status_code == 403
    response = await client.post(
        "/api/requests", json={"patient_id": patient.id, "reason": "x"}, headers=world.regulator
    )
    assert response.status_code == 403
    rid = await _request(client, world, db, family_name="Autre", phone="+33639980078")
    response = await _book(
        client, world.regulator, rid, world.titular.id, at(world.today, dt.time(14, 45), PARIS)
    )
    assert response.status_code == 403


async def test_moving_onto_the_day_of_the_patients_other_appointment_needs_confirmation(
    client, world, db
):
    """The booking's same-day guard holds for a move too (issue 22, item 4)."""
    patient = await make_patient(db)
    requests = []
    for reason in ("Otite", "Renouvellement"):
        created = await client.post(
            "/api/requests",
            json={"patient_id": patient.id, "reason": reason, "urgency": "within_48h"},
            headers=world.secretary,
        )
        assert created.status_code == 201, created.text
        requests.append(created.json()["request"]["id"])
    today_15 = at(world.today, dt.time(15), PARIS)
    tomorrow_15 = today_15 + dt.timedelta(days=1)
    first = await _book(client, world.secretary, requests[0], world.titular.id, today_15)
    second = await _book(client, world.secretary, requests[1], world.titular.id, tomorrow_15)
    assert first.status_code == second.status_code == 201, second.text
    target = {"start_at": (today_15 + dt.timedelta(hours=2)).isoformat()}
    url = f"/api/appointments/{second.json()['id']}/reschedule"
    refused = await client.post(url, json=target, headers=world.secretary)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "patient_same_day"
    assert refused.json()["appointments"] == [first.json()["id"]]
    stored = await db.get(Appointment, second.json()["id"])
    await db.refresh(stored)
    assert stored.start_at == tomorrow_15  # nothing moved
    confirmed = await client.post(
        url, json={**target, "confirm_same_day": True}, headers=world.secretary
    )
    assert confirmed.status_code == 200, confirmed.text
