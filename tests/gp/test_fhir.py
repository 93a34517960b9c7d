"""FHIR read access for GP software, under /fhir/agenda with the GP's own bearer token."""

from __future__ import annotations

import datetime as dt

from app.sas.profiles import PROFILE_SLOT
from tests.gp.helpers import book, local, new_request


async def test_a_gp_reads_their_schedule_slots_and_appointments(client, world, db):
    _p, request_id = await new_request(client, world, db, reason="Douleur au genou")
    appointment = await book(client, world, request_id, world.titular.id, local(world.today, 14))

    response = await client.get("/fhir/agenda/Schedule", headers=world.gp)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle = response.json()
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    matches = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "match"]
    assert [r["resourceType"] for r in matches] == ["Schedule"]
    assert {"reference": f"Practitioner/{world.titular.id}"} in matches[0]["actor"]
    included = {
        e["resource"]["resourceType"] for e in bundle["entry"] if e["search"]["mode"] == "include"
    }
    assert included == {"Practitioner", "PractitionerRole"}

    day = world.today.isoformat()
    response = await client.get(
        "/fhir/agenda/Slot",
        params=[("start", f"ge{day}"), ("start", f"le{day}"), ("status", "free")],
        headers=world.gp,
    )
    assert response.status_code == 200, response.text
    slots = [
        e["resource"] for e in response.json()["entry"] if e["resource"]["resourceType"] == "Slot"
    ]
    starts = [dt.datetime.fromisoformat(s["start"]) for s in slots]
    assert local(world.today, 14, 15) in starts
    assert local(world.today, 14) not in starts  # booked
    assert all(s["meta"]["profile"] == [PROFILE_SLOT] for s in slots)  # the SAS mapping

    response = await client.get(
        "/fhir/agenda/Appointment", params={"date": f"ge{day}"}, headers=world.gp
    )
    assert response.status_code == 200, response.text
    resources = [e["resource"] for e in response.json()["entry"]]
    assert [r["id"] for r in resources] == [str(appointment["id"])]
    assert resources[0]["status"] == "booked"
    assert dt.datetime.fromisoformat(resources[0]["start"]) == local(world.today, 14)
    assert resources[0]["description"] == "Douleur au genou"


async def test_fhir_agenda_is_for_authenticated_practitioners_only(client, world, db):
    _p, request_id = await new_request(client, world, db)
    await book(client, world, request_id, world.titular.id, local(world.today, 14))
    # Another GP sees none of the first GP's appointments.
    response = await client.get("/fhir/agenda/Appointment", headers=world.other_gp)
    assert response.status_code == 200 and response.json()["total"] == 0
    response = await client.get("/fhir/agenda/Appointment")
    assert response.status_code == 401
    assert response.json()["resourceType"] == "OperationOutcome"
    response = await client.get("/fhir/agenda/Schedule", headers=world.secretary)
    assert response.status_code == 403
    assert response.json()["resourceType"] == "OperationOutcome"
    response = await client.get("/fhir/agenda/Slot", params={"start": "demain"}, headers=world.gp)
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["start"]
