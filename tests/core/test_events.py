"""Booking, rescheduling, cancelling and outcomes are announced to the other domains."""

from __future__ import annotations

import datetime as dt

from app.core.timeutil import PARIS, at
from tests.factories import make_patient


async def test_listeners_hear_every_change_in_the_same_transaction(app, client, world, db):
    heard = []

    async def listener(session, event):
        heard.append((str(event.kind), event.appointment.id, event.previous_start))

    app.state.appointment_listeners.append(listener)
    patient = await make_patient(db)
    response = await client.post(
        "/api/requests", json={"patient_id": patient.id, "reason": "x"}, headers=world.secretary
    )
    start = at(world.today, dt.time(14), PARIS)
    response = await client.post(
        "/api/appointments",
        json={
            "request_id": response.json()["request"]["id"],
            "practitioner_id": world.titular.id,
            "start_at": start.isoformat(),
        },
        headers=world.secretary,
    )
    appointment_id = response.json()["id"]
    later = at(world.today, dt.time(15), PARIS)
    await client.post(
        f"/api/appointments/{appointment_id}/reschedule",
        json={"start_at": later.isoformat()},
        headers=world.secretary,
    )
    await client.post(
        f"/api/appointments/{appointment_id}/cancel",
        json={"reason": "test"},
        headers=world.secretary,
    )
    assert [(k, i) for k, i, _ in heard] == [
        ("booked", appointment_id),
        ("rescheduled", appointment_id),
        ("cancelled", appointment_id),
    ]
    assert heard[1][2] == start


async def test_a_failing_listener_undoes_the_booking(app, client, world, db):
    async def broken(session, event):
        raise RuntimeError("the SMS queue is unreachable")

    app.state.appointment_listeners.append(broken)
    patient = await make_patient(db)
    response = await client.post(
        "/api/requests", json={"patient_id": patient.id, "reason": "x"}, headers=world.secretary
    )
    request_id = response.json()["request"]["id"]
    try:
        await client.post(
            "/api/appointments",
            json={
                "request_id": request_id,
                "practitioner_id": world.titular.id,
                "start_at": at(world.today, dt.time(14), PARIS).isoformat(),
            },
            headers=world.secretary,
        )
    except RuntimeError:
        pass
    app.state.appointment_listeners.clear()
    response = await client.get(f"/api/requests/{request_id}", headers=world.secretary)
    assert response.json()["status"] == "new"  # nothing half written
