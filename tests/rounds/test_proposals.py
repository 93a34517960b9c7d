"""Proposals through the HTTP API: teleconsultation slots and home-visit insertions."""

from __future__ import annotations

import datetime as dt
import re

from app.core.timeutil import PARIS, at
from tests.rounds.conftest import book_visit, local, new_patient, new_request, travel_minutes

TELE_LABEL = re.compile(r"^Dr [\w-]+, (lundi|mardi) \d\d:\d\d–\d\d:\d\d, téléconsultation$")
VISIT_LABEL = re.compile(r"^Dr [\w-]+, (lundi|mardi) \d\d:\d\d–\d\d:\d\d, \+\d+ min de trajet$")


async def test_teleconsultation_options_meet_the_deadline_in_french(client, world, db, clock):
    patient = await new_patient(db, "Durand")
    request = await new_request(client, world.secretary, patient.id)
    deadline = dt.datetime.fromisoformat(request["deadline"])

    response = await client.get(
        f"/api/requests/{request['id']}/proposals?k=4", headers=world.secretary
    )
    assert response.status_code == 200, response.text
    body = response.json()
    options = body["options"]
    assert body["kind"] == "teleconsultation"
    assert 1 <= len(options) <= 4
    for option in options:
        start = local(option["start_at"])
        assert clock() <= start <= deadline
        assert TELE_LABEL.match(option["label"]), option["label"]
        assert "avant l'échéance" in option["why"]
        assert option["deadline_slack_minutes"] == (deadline - start).total_seconds() // 60
        assert option["booking"]["practitioner_id"] == option["practitioner_id"]
    # One option per GP and day, and the adjoint is offered only beside the titular.
    keys = [(o["practitioner_id"], o["date"]) for o in options]
    assert len(keys) == len(set(keys))
    assert options[0]["start_at"] == min(o["start_at"] for o in options)


async def test_continuity_puts_the_known_gp_first(client, world, db, clock):
    patient = await new_patient(db, "Petit")
    first = await new_request(client, world.secretary, patient.id)
    # The patient saw Dr Bernard this morning's teleconsultation last week: booked earlier today.
    clock.set(at(world.today, dt.time(8, 0), PARIS))
    response = await client.post(
        "/api/appointments",
        json={
            "request_id": first["id"],
            "practitioner_id": world.other_titular.id,
            "start_at": at(world.today, dt.time(14), PARIS).isoformat(),
        },
        headers=world.secretary,
    )
    assert response.status_code == 201, response.text
    clock.set(at(world.today, dt.time(15), PARIS))
    second = await new_request(client, world.secretary, patient.id)
    options = (
        await client.get(f"/api/requests/{second['id']}/proposals", headers=world.secretary)
    ).json()["options"]
    assert options[0]["practitioner_id"] == world.other_titular.id
    assert options[0]["reason"] == "continuity"
    assert "continuité" in options[0]["why"]


async def test_home_visit_options_insert_into_rounds_and_keep_promises(
    client, world, db, clock, rounds_settings
):
    booked_patient = await new_patient(db, "Moreau", "Fresnes")
    booked_request = await new_request(
        client, world.secretary, booked_patient.id, modality="home_visit"
    )
    await book_visit(
        client,
        world.secretary,
        booked_request["id"],
        world.titular.id,
        world.today,
        dt.time(10, 0),
        dt.time(11, 0),
    )
    patient = await new_patient(db, "Roux", "Rungis")
    request = await new_request(client, world.secretary, patient.id, modality="home_visit")
    deadline = dt.datetime.fromisoformat(request["deadline"])

    response = await client.get(f"/api/requests/{request['id']}/proposals", headers=world.secretary)
    assert response.status_code == 200, response.text
    options = response.json()["options"]
    assert options and response.json()["kind"] == "home_visit"
    gps = {world.titular.id, world.adjoint.id}
    for option in options:
        start, end = local(option["start_at"]), local(option["end_at"])
        arrival = local(option["planned_arrival"])
        assert VISIT_LABEL.match(option["label"]), option["label"]
        assert option["practitioner_id"] in gps  # Dr Bernard does no rounds
        assert dt.time(10) <= start.time() and end.time() <= dt.time(13)
        assert start <= arrival <= end <= deadline
        assert start >= clock() + dt.timedelta(minutes=rounds_settings.proposal_lead_minutes)
        assert end - start <= dt.timedelta(minutes=60)
        assert option["added_travel_minutes"] >= 0
    # Into the adjoint's empty round the detour is out and back, recomputed here.
    home = (world.adjoint.latitude, world.adjoint.longitude)
    there = (patient.latitude, patient.longitude)
    expected = 2 * travel_minutes(home, there, rounds_settings)
    empty = [o for o in options if o["practitioner_id"] == world.adjoint.id]
    assert empty and abs(empty[0]["added_travel_minutes"] - expected) <= 0.2
    # Dr Martin's round already holds a promise: his detour is the least on Monday.
    monday = [o for o in options if o["date"] == str(world.today)]
    assert monday[0]["practitioner_id"] == world.titular.id
    assert monday[0]["added_travel_minutes"] < empty[0]["added_travel_minutes"]


async def test_no_proposals_for_a_request_redirected_to_the_15(client, world, db):
    patient = await new_patient(db, "Lambert")
    request = await new_request(client, world.secretary, patient.id, red_flags=["chest_pain"])
    assert request["status"] == "redirected_15"
    response = await client.get(f"/api/requests/{request['id']}/proposals", headers=world.secretary)
    assert response.status_code == 409
    assert response.json()["code"] == "redirected_15"
    booked = await client.post(
        f"/api/requests/{request['id']}/proposals/book",
        json={
            "practitioner_id": world.titular.id,
            "kind": "teleconsultation",
            "start_at": at(world.today, dt.time(14), PARIS).isoformat(),
            "end_at": at(world.today, dt.time(14, 15), PARIS).isoformat(),
        },
        headers=world.secretary,
    )
    assert booked.status_code == 409


async def test_proposals_are_for_staff_only(client, world, db):
    patient = await new_patient(db, "Garcia")
    request = await new_request(client, world.secretary, patient.id)
    response = await client.get(f"/api/requests/{request['id']}/proposals", headers=world.gp)
    assert response.status_code == 403
