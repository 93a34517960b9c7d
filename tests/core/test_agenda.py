"""app/agenda: what reads a practitioner's appointments (absences over bookings, GP reads)."""

from __future__ import annotations

import datetime as dt

from app.core.timeutil import PARIS, at
from tests.factories import make_patient


async def _book(client, world, db, patient, practitioner_id, start):
    response = await client.post(
        "/api/requests",
        json={"patient_id": patient.id, "reason": "Otite", "urgency": "within_48h"},
        headers=world.secretary,
    )
    assert response.status_code == 201, response.text
    response = await client.post(
        "/api/appointments",
        json={
            "request_id": response.json()["request"]["id"],
            "practitioner_id": practitioner_id,
            "start_at": start.isoformat(),
        },
        headers=world.secretary,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def test_an_absence_over_a_held_appointment_is_refused_until_it_is_cancelled(
    client, world, db
):
    start = at(world.today, dt.time(15), PARIS)
    appointment_id = await _book(
        client, world, db, await make_patient(db), world.other_titular.id, start
    )
    absence = {
        "start_at": at(world.today, dt.time(13), PARIS).isoformat(),
        "end_at": at(world.today, dt.time(21), PARIS).isoformat(),
        "reason": "Formation",
    }
    url = f"/api/practitioners/{world.other_titular.id}/absences"
    refused = await client.post(url, json=absence, headers=world.coordinator)
    assert refused.status_code == 409, refused.text
    assert refused.json()["appointment_ids"] == [appointment_id]
    assert "déjà pris" in refused.json()["message"]
    cancelled = await client.post(
        f"/api/appointments/{appointment_id}/cancel",
        json={"reason": "Le patient annule"},
        headers=world.secretary,
    )
    assert cancelled.status_code == 200, cancelled.text
    accepted = await client.post(url, json=absence, headers=world.coordinator)
    assert accepted.status_code == 201, accepted.text


async def test_a_gp_finds_only_the_patients_they_have_seen(client, world, db):
    seen = await make_patient(db)
    await make_patient(db, given_name="Paul", phone="+33639980002", nir=None)
    await _book(client, world, db, seen, world.titular.id, at(world.today, dt.time(15), PARIS))
    query = "/api/patients?name=dupont&birth_date=1980-05-17"
    staff = await client.get(query, headers=world.secretary)
    assert staff.status_code == 200
    assert len(staff.json()) == 2
    own = await client.get(query, headers=world.gp)
    assert own.status_code == 200
    assert [p["id"] for p in own.json()] == [seen.id]
    other = await client.get(query, headers=world.other_gp)
    assert other.status_code == 200
    assert other.json() == []
