# ruff: noqa: F811  (the core world fixture is imported, then requested by name)
"""The adjoint rules, once: SAS search, free slots, materialise and absences agree with booking."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from app.appointments.models import Appointment, AppointmentStatus
from app.practitioners.models import DutySession, Practitioner, PractitionerStatus
from tests.core.conftest import world  # noqa: F401
from tests.factories import add_week, make_practitioner
from tests.gp.helpers import book, local, new_request
from tests.sas.fake_sas import slot_search_params

ADJOINT_FIELDS = dict(family_name="Garnier", given_name="Inès")


async def _sas_slots(client, fhir, practitioner, start, end) -> list[dict]:
    response = await client.get(
        "/fhir/Slot",
        params=slot_search_params(
            [f"8{practitioner.rpps}"],
            start.isoformat(timespec="milliseconds"),
            end.isoformat(timespec="milliseconds"),
        ),
        headers=fhir,
    )
    assert response.status_code == 200, response.text
    return [
        e["resource"]
        for e in response.json().get("entry", [])
        if e["resource"]["resourceType"] == "Slot"
    ]


async def _free(client, world, practitioner_id: int, first: dt.date, days: int) -> list[dict]:
    response = await client.get(
        f"/api/practitioners/{practitioner_id}/free-slots",
        params={"from": first.isoformat(), "days": days},
        headers=world.secretary,
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _try_book(client, world, request_id, practitioner_id, start) -> dict:
    response = await client.post(
        "/api/appointments",
        json={
            "request_id": request_id,
            "practitioner_id": practitioner_id,
            "start_at": start.isoformat(),
            "deadline_override_reason": "test",
        },
        headers=world.coordinator,
    )
    return {**response.json(), "http": response.status_code}


async def test_sas_search_shows_no_adjoint_slot_while_the_titular_is_off_duty(
    client, world, db, fhir
):
    today, tomorrow = world.today, world.today + dt.timedelta(days=1)
    # The titular's sessions of today are withdrawn (no absence row): off duty.
    await db.execute(
        update(DutySession)
        .where(DutySession.practitioner_id == world.titular.id, DutySession.date == today)
        .values(cancelled=True)
    )
    await db.commit()
    slots = await _sas_slots(client, fhir, world.adjoint, local(today, 9), local(tomorrow, 23))
    days = {dt.datetime.fromisoformat(s["start"]).date() for s in slots}
    assert days == {tomorrow}, days
    assert not [
        s
        for s in await _free(client, world, world.adjoint.id, today, 1)
        if dt.datetime.fromisoformat(s["start_at"]).date() == today
    ]
    _p, request_id = await new_request(client, world, db)
    refused = await _try_book(client, world, request_id, world.adjoint.id, local(today, 15))
    assert refused["http"] == 409 and refused["code"] == "adjoint_without_titular"


async def test_sas_search_and_free_slots_stay_inside_the_authorisation_dates(
    client, world, db, fhir
):
    today = world.today
    await db.execute(
        update(Practitioner)
        .where(Practitioner.id == world.adjoint.id)
        .values(authorisation_end=today)
    )
    await db.commit()
    later = today + dt.timedelta(days=1)
    assert await _sas_slots(client, fhir, world.adjoint, local(later, 0), local(later, 23)) == []
    assert await _free(client, world, world.adjoint.id, later, 3) == []
    # Today is still inside: the same search finds slots, and booking one works.
    found = await _sas_slots(client, fhir, world.adjoint, local(today, 9), local(today, 23))
    assert found
    _p, request_id = await new_request(client, world, db)
    booked = await _try_book(
        client, world, request_id, world.adjoint.id, dt.datetime.fromisoformat(found[0]["start"])
    )
    assert booked["http"] == 201, booked
    _p, other = await new_request(client, world, db)
    refused = await _try_book(client, world, other, world.adjoint.id, local(later, 15))
    assert refused["http"] == 409 and refused["code"] == "adjoint_not_authorised"


async def test_materialise_creates_adjoint_sessions_only_inside_the_authorisation_dates(world, db):
    today = world.today
    adjoint = await make_practitioner(
        db,
        **ADJOINT_FIELDS,
        status=PractitionerStatus.adjoint,
        titular_id=world.titular.id,
        authorisation_start=today + dt.timedelta(days=2),
        authorisation_end=today + dt.timedelta(days=3),
    )
    await add_week(db, adjoint, today, horizon_days=13)
    dates = set(
        (
            await db.scalars(
                select(DutySession.date).where(DutySession.practitioner_id == adjoint.id)
            )
        ).all()
    )
    assert dates == {today + dt.timedelta(days=2), today + dt.timedelta(days=3)}


async def test_a_titular_absence_handles_the_adjoint_bookings_as_chosen(client, world, db, fhir):
    today = world.today
    _p, r1 = await new_request(client, world, db)
    adjoint_tele = await book(client, world, r1, world.adjoint.id, local(today, 15))
    absence = {
        "start_at": local(today, 9).isoformat(),
        "end_at": local(today, 20).isoformat(),
        "reason": "Formation",
    }
    refused = await client.post("/api/me/absences", json=absence, headers=world.gp)
    assert refused.status_code == 409
    assert refused.json()["appointment_ids"] == [adjoint_tele["id"]]

    response = await client.post(
        "/api/me/absences", json={**absence, "on_conflict": "cancel"}, headers=world.gp
    )
    assert response.status_code == 201, response.text
    assert [(m["appointment_id"], m["how"]) for m in response.json()["appointments"]] == [
        (adjoint_tele["id"], "cancelled")
    ]
    await db.commit()
    row = await db.get(Appointment, adjoint_tele["id"])
    assert row.status == AppointmentStatus.cancelled
    adjoint_sessions = (
        await db.scalars(
            select(DutySession).where(
                DutySession.practitioner_id == world.adjoint.id, DutySession.date == today
            )
        )
    ).all()
    assert adjoint_sessions and all(s.cancelled for s in adjoint_sessions)
    assert await _sas_slots(client, fhir, world.adjoint, local(today, 9), local(today, 23)) == []


async def test_a_titular_absence_reassigns_the_adjoint_bookings_to_another_gp(client, world, db):
    today = world.today
    _p, r1 = await new_request(client, world, db)
    adjoint_tele = await book(client, world, r1, world.adjoint.id, local(today, 15))
    response = await client.post(
        "/api/me/absences",
        json={
            "start_at": local(today, 9).isoformat(),
            "end_at": local(today, 20).isoformat(),
            "reason": "Formation",
            "on_conflict": "reassign",
        },
        headers=world.gp,
    )
    assert response.status_code == 201, response.text
    (moved,) = response.json()["appointments"]
    assert moved["appointment_id"] == adjoint_tele["id"] and moved["how"] == "reassigned"
    assert moved["to_practitioner_id"] == world.other_titular.id
    await db.commit()
    row = await db.get(Appointment, adjoint_tele["id"])
    assert row.practitioner_id == world.other_titular.id
    assert row.status == AppointmentStatus.booked
