"""Declaring availability: templates, sessions, absences over booked appointments."""

from __future__ import annotations

import datetime as dt
import importlib.util

from sqlalchemy import select

from app.appointments.models import Appointment, AppointmentStatus
from app.outbox.models import OutboxMessage
from app.practitioners import service as practitioners_service
from app.practitioners.models import Absence, DutySession, SessionKind
from app.practitioners.schemas import SessionTemplateIn
from app.requests.models import CareRequest, RequestStatus
from tests.gp.helpers import book, local, new_request

MESSAGING = importlib.util.find_spec("app.messaging.wiring") is not None


async def test_a_gp_declares_weekly_and_one_off_sessions(client, world, db):
    sunday = world.today + dt.timedelta(days=6)
    response = await client.post(
        "/api/me/sessions",
        json={
            "date": sunday.isoformat(),
            "kind": "teleconsultation",
            "start_time": "09:00",
            "end_time": "12:00",
            "open_to_sas": True,
        },
        headers=world.other_gp,
    )
    assert response.status_code == 201, response.text
    assert response.json()["practitioner_id"] == world.other_titular.id
    response = await client.post(
        "/api/me/templates",
        json={"weekday": 6, "kind": "practice", "start_time": "13:00", "end_time": "15:00"},
        headers=world.other_gp,
    )
    assert response.status_code == 201, response.text
    sessions = (
        await db.scalars(
            select(DutySession).where(
                DutySession.practitioner_id == world.other_titular.id,
                DutySession.date == sunday,
            )
        )
    ).all()
    assert sorted((s.kind, s.start_at) for s in sessions) == [
        (SessionKind.practice, local(sunday, 13)),
        (SessionKind.teleconsultation, local(sunday, 9)),
    ]
    # The coordinator declares for any GP, a GP only for themself.
    response = await client.post(
        "/api/me/sessions",
        params={"practitioner_id": world.titular.id},
        json={
            "date": sunday.isoformat(),
            "kind": "practice",
            "start_time": "08:00",
            "end_time": "09:00",
        },
        headers=world.other_gp,
    )
    assert response.status_code == 403
    response = await client.post(
        "/api/me/sessions",
        params={"practitioner_id": world.titular.id},
        json={
            "date": sunday.isoformat(),
            "kind": "practice",
            "start_time": "08:00",
            "end_time": "09:00",
        },
        headers=world.coordinator,
    )
    assert response.status_code == 201


async def test_an_adjoint_session_outside_the_titulars_days_is_refused(client, world):
    # The titular works Monday to Saturday: Sunday is refused, with who and when.
    response = await client.post(
        "/api/me/templates",
        json={"weekday": 6, "kind": "teleconsultation", "start_time": "14:00", "end_time": "18:00"},
        headers=world.adjoint_gp,
    )
    assert response.status_code == 409
    message = response.json()["message"]
    assert "Dr Inès Garnier est médecin adjoint de Dr Claire Martin" in message
    assert "Le dimanche n'est pas un jour de travail du titulaire" in message
    assert "lundi, mardi, mercredi, jeudi, vendredi, samedi" in message

    sunday = world.today + dt.timedelta(days=6)
    response = await client.post(
        "/api/me/sessions",
        json={
            "date": sunday.isoformat(),
            "kind": "teleconsultation",
            "start_time": "14:00",
            "end_time": "18:00",
        },
        headers=world.adjoint_gp,
    )
    assert response.status_code == 409
    message = response.json()["message"]
    assert "Dr Claire Martin" in message and "dimanche 13 décembre" in message
    assert "aucune vacation" in message

    # A weekday, but outside the titular's hours.
    response = await client.post(
        "/api/me/sessions",
        json={
            "date": world.today.isoformat(),
            "kind": "practice",
            "start_time": "21:00",
            "end_time": "22:00",
        },
        headers=world.adjoint_gp,
    )
    assert response.status_code == 409
    assert "10:00–13:00, 14:00–20:00" in response.json()["message"]

    # Outside the authorisation dates.
    late = world.adjoint.authorisation_end + dt.timedelta(days=3)
    response = await client.post(
        "/api/me/sessions",
        json={
            "date": late.isoformat(),
            "kind": "practice",
            "start_time": "10:00",
            "end_time": "11:00",
        },
        headers=world.adjoint_gp,
    )
    assert response.status_code == 409
    assert "hors des dates d'autorisation" in response.json()["message"]


async def _book_two(client, world, db):
    _p1, r1 = await new_request(client, world, db, reason="Toux", phone="+33639980021")
    tele = await book(client, world, r1, world.titular.id, local(world.today, 15))
    _p2, r2 = await new_request(client, world, db, reason="Chute", phone="+33639980022")
    visit = await book(
        client, world, r2, world.titular.id, local(world.today, 11), kind="home_visit"
    )
    return tele, visit


def _listen(app):
    heard = []

    async def listener(session, event):
        heard.append((str(event.kind), event.appointment.id, event.appointment.practitioner_id))

    app.state.appointment_listeners.append(listener)
    return heard


async def test_an_absence_over_bookings_is_refused_then_reassigned_with_sms(app, client, world, db):
    # The other GP also does rounds, so both appointments can go to him.
    for weekday in range(6):
        await practitioners_service.add_template(
            session=db,
            practitioner=world.other_titular,
            template_in=SessionTemplateIn(
                weekday=weekday,
                kind=SessionKind.home_visit,
                start_time=dt.time(10),
                end_time=dt.time(13),
                valid_from=world.today,
            ),
            today=world.today,
            horizon_days=7,
        )
    await db.commit()
    tele, visit = await _book_two(client, world, db)
    other_id, titular_id, adjoint_id = world.other_titular.id, world.titular.id, world.adjoint.id
    heard = _listen(app)
    absence = {
        "start_at": local(world.today, 9).isoformat(),
        "end_at": local(world.today, 20).isoformat(),
        "reason": "Enfant malade",
    }
    response = await client.post("/api/me/absences", json=absence, headers=world.gp)
    assert response.status_code == 409
    body = response.json()
    assert sorted(body["appointment_ids"]) == sorted([tele["id"], visit["id"]])
    assert "on_conflict=reassign" in body["message"]
    assert (await db.scalar(select(Absence.id))) is None

    response = await client.post(
        "/api/me/absences", json={**absence, "on_conflict": "reassign"}, headers=world.gp
    )
    assert response.status_code == 201, response.text
    moved = {m["appointment_id"]: m for m in response.json()["appointments"]}
    assert set(moved) == {tele["id"], visit["id"]}
    for m in moved.values():
        assert m["how"] == "reassigned"
        assert m["to_practitioner_id"] == other_id
    await db.commit()  # end the read snapshot; objects are re-read
    rows = (
        await db.scalars(select(Appointment).where(Appointment.id.in_([tele["id"], visit["id"]])))
    ).all()
    for row in rows:
        assert row.practitioner_id == other_id
        assert row.status == AppointmentStatus.booked
        request = await db.get(CareRequest, row.request_id)
        assert row.start_at <= request.deadline  # before the deadline
    # Both patients are told: the rescheduled events, and the SMS when messaging is wired.
    assert sorted(i for kind, i, _p in heard if kind == "rescheduled") == sorted(moved)
    if MESSAGING:
        sms = (await db.scalars(select(OutboxMessage).where(OutboxMessage.topic == "sms"))).all()
        assert len(sms) >= 2
    titular_sessions = (
        await db.scalars(
            select(DutySession).where(
                DutySession.practitioner_id == titular_id, DutySession.date == world.today
            )
        )
    ).all()
    assert titular_sessions and all(s.cancelled for s in titular_sessions)
    listed = (await client.get("/api/me/sessions", headers=world.gp)).json()
    assert {s["cancelled"] for s in listed if s["date"] == world.today.isoformat()} == {True}
    # The titular's adjoint was never a candidate (cannot work without the titular).
    assert adjoint_id not in {p for _k, _i, p in heard}


async def test_an_absence_can_cancel_the_bookings_and_tell_the_patients(app, client, world, db):
    tele, visit = await _book_two(client, world, db)
    heard = _listen(app)
    response = await client.post(
        "/api/me/absences",
        json={
            "start_at": local(world.today, 9).isoformat(),
            "end_at": local(world.today, 20).isoformat(),
            "on_conflict": "cancel",
        },
        headers=world.gp,
    )
    assert response.status_code == 201, response.text
    assert {m["how"] for m in response.json()["appointments"]} == {"cancelled"}
    assert sorted(i for kind, i, _p in heard if kind == "cancelled") == sorted(
        [tele["id"], visit["id"]]
    )
    await db.commit()  # end the read snapshot; objects are re-read
    for appointment_id in (tele["id"], visit["id"]):
        row = await db.get(Appointment, appointment_id)
        assert row.status == AppointmentStatus.cancelled and not row.cancelled_by_patient
        request = await db.get(CareRequest, row.request_id)
        assert request.status == RequestStatus.new  # back to the queue, still to be met
    if MESSAGING:
        sms = (await db.scalars(select(OutboxMessage).where(OutboxMessage.topic == "sms"))).all()
        assert len(sms) >= 2


async def test_a_reassignment_without_any_free_gp_changes_nothing(client, world, db):
    # Nobody else does rounds, and the titular's adjoint cannot work while they are away.
    _tele, visit = await _book_two(client, world, db)
    titular_id = world.titular.id
    response = await client.post(
        "/api/me/absences",
        json={
            "start_at": local(world.today, 9).isoformat(),
            "end_at": local(world.today + dt.timedelta(days=3), 20).isoformat(),
            "on_conflict": "reassign",
        },
        headers=world.gp,
    )
    assert response.status_code == 409, response.text
    assert response.json()["appointment_ids"] == [visit["id"]]
    await db.commit()  # end the read snapshot; objects are re-read
    rows = (await db.scalars(select(Appointment))).all()
    assert {r.practitioner_id for r in rows} == {titular_id}
    assert (await db.scalar(select(Absence.id))) is None
