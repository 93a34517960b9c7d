"""Proposal → booking → re-plan through the HTTP API; stale options answer 409 + fresh ones."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from app.appointments.models import Appointment
from app.practitioners.models import DutySession, SessionKind
from app.rounds import replans
from tests.rounds.conftest import book_visit, local, new_patient, new_request


async def _proposals(client, headers, request_id) -> list[dict]:
    response = await client.get(f"/api/requests/{request_id}/proposals", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["options"]


async def test_booking_home_visits_replans_without_moving_promises(app, client, world, db):
    booked: dict[int, tuple[str, str]] = {}
    for name, commune in (("Moreau", "Fresnes"), ("Roux", "Rungis"), ("Blanc", "Chevilly-Larue")):
        patient = await new_patient(db, name, commune)
        request = await new_request(client, world.secretary, patient.id, modality="home_visit")
        option = (await _proposals(client, world.secretary, request["id"]))[0]
        response = await client.post(
            f"/api/requests/{request['id']}/proposals/book",
            json=option["booking"],
            headers=world.secretary,
        )
        assert response.status_code == 201, response.text
        body = response.json()
        appointment = body["appointment"]
        assert appointment["kind"] == "home_visit"
        assert local(appointment["start_at"]) == local(option["start_at"])
        assert local(appointment["end_at"]) == local(option["end_at"])
        # Inserted into the round in force; the re-plan is the worker's (below).
        assert body["run"] is None
        assert body["label"].endswith("visite à domicile")
        booked[appointment["id"]] = (option["start_at"], option["end_at"])
        # Every promise made so far still holds after this re-plan.
        rows = (
            await db.execute(
                select(
                    Appointment.id,
                    Appointment.start_at,
                    Appointment.end_at,
                    Appointment.planned_arrival,
                    Appointment.route_order,
                ).where(Appointment.id.in_(booked))
            )
        ).all()
        await db.rollback()
        assert len(rows) == len(booked)
        for aid, start_at, end_at, arrival, order in rows:
            start, end = booked[aid]
            assert start_at == local(start) and end_at == local(end)
            assert arrival is not None and order is not None
            assert local(start) <= arrival <= local(end)

    # The worker's job re-plans the morning once for the three bookings, promises kept.
    runs = await replans.run_pending(
        session=db, planner=app.state.rounds_planner, now=app.state.clock(), debounce_s=0
    )
    assert len(runs) == 1
    run = runs[0]
    assert run.status == "succeeded" and run.trigger == "booking"
    assert run.renegotiate == [] and run.dropped == []
    assert await replans.pending(session=db) == []
    rows = (
        await db.execute(
            select(Appointment.id, Appointment.planned_arrival).where(Appointment.id.in_(booked))
        )
    ).all()
    for aid, arrival in rows:
        start, end = booked[aid]
        assert arrival is not None and local(start) <= arrival <= local(end)

    rounds = await client.get(f"/api/rounds/{world.today}", headers=world.secretary)
    assert rounds.status_code == 200
    served = [s["appointment_id"] for r in rounds.json()["routes"] for s in r["stops"]]
    assert sorted(served) == sorted(booked)


async def test_stale_teleconsultation_option_gets_409_and_fresh_options(client, world, db):
    first = await new_request(client, world.secretary, (await new_patient(db, "Faure")).id)
    second = await new_request(client, world.secretary, (await new_patient(db, "Henry")).id)
    stale = (await _proposals(client, world.secretary, second["id"]))[0]
    # Someone else takes that very slot for another request in the meantime.
    taken = await client.post(
        "/api/appointments",
        json={"request_id": first["id"], **stale["booking"]},
        headers=world.coordinator,
    )
    assert taken.status_code == 201, taken.text

    response = await client.post(
        f"/api/requests/{second['id']}/proposals/book",
        json=stale["booking"],
        headers=world.secretary,
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "proposal_invalidated" and body["reason"] == "slot_taken"
    assert body["options"], "fresh options come with the refusal"
    fresh = {(o["practitioner_id"], o["start_at"]) for o in body["options"]}
    assert (stale["practitioner_id"], stale["start_at"]) not in fresh
    retry = await client.post(
        f"/api/requests/{second['id']}/proposals/book",
        json=body["options"][0]["booking"],
        headers=world.secretary,
    )
    assert retry.status_code == 201, retry.text
    assert retry.json()["run"] is None  # no round to re-plan for a teleconsultation


async def test_stale_home_visit_option_gets_409_when_the_round_filled_up(client, world, db):
    await db.execute(
        update(DutySession)
        .where(DutySession.kind == SessionKind.home_visit, DutySession.date == world.today)
        .values(capacity=1)
    )
    await db.commit()
    mine = await new_request(
        client, world.secretary, (await new_patient(db, "Mercier")).id, modality="home_visit"
    )
    options = await _proposals(client, world.secretary, mine["id"])
    stale = next(o for o in options if o["date"] == str(world.today))
    other = await new_request(
        client,
        world.secretary,
        (await new_patient(db, "Girard", "Fresnes")).id,
        modality="home_visit",
    )
    await book_visit(
        client,
        world.coordinator,
        other["id"],
        stale["practitioner_id"],
        world.today,
        dt.time(11),
        dt.time(12),
    )
    response = await client.post(
        f"/api/requests/{mine['id']}/proposals/book",
        json=stale["booking"],
        headers=world.secretary,
    )
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["code"] == "proposal_invalidated" and body["reason"] == "round_changed"
    assert all(
        not (o["practitioner_id"] == stale["practitioner_id"] and o["date"] == str(world.today))
        for o in body["options"]
    )
    assert body["options"]
    rows = (await db.scalars(select(Appointment).where(Appointment.request_id == mine["id"]))).all()
    assert rows == []


async def test_narrowed_windows_are_announced(client, world, db, app):
    """Optimising tells listeners (the SMS) each window it narrowed inside a promise."""
    heard = []

    async def listener(session, event):
        heard.append((str(event.kind), event.appointment.id))

    app.state.appointment_listeners.append(listener)
    request = await new_request(
        client,
        world.secretary,
        (await new_patient(db, "Large", "Fresnes")).id,
        modality="home_visit",
    )
    # A three-hour promise: the round narrows it to a one-hour window.
    booked = await book_visit(
        client,
        world.secretary,
        request["id"],
        world.titular.id,
        world.today,
        dt.time(10),
        dt.time(13),
    )
    optimised = await client.post(f"/api/rounds/{world.today}/optimise", headers=world.coordinator)
    assert optimised.status_code == 200, optimised.text
    assert ("window_narrowed", booked["id"]) in heard
    row = await db.get(Appointment, booked["id"])
    assert row.end_at - row.start_at == dt.timedelta(minutes=60)
