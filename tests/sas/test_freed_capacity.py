"""Freed capacity reaches the SAS at once (issue 23, item 4): a cancelled teleconsultation's
slot is in the next INT_R04 search; a cancelled home visit drops the day's cached HH windows."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.accounts.models import Role
from app.core.timeutil import PARIS
from app.practitioners.models import DutySession, SessionKind
from tests.factories import add_week, make_patient, make_practitioner, make_user, token
from tests.sas.fake_sas import slot_search_params
from tests.sas.test_home_visit_slots import fake_rounds  # noqa: F401
from tests.sas.world import local, sas_gp


async def _book(client, headers, patient_id, practitioner_id, start, kind) -> int:
    created = await client.post(
        "/api/requests", json={"patient_id": patient_id, "reason": "Fièvre"}, headers=headers
    )
    assert created.status_code == 201, created.text
    booked = await client.post(
        "/api/appointments",
        json={
            "request_id": created.json()["request"]["id"],
            "practitioner_id": practitioner_id,
            "start_at": start.isoformat(),
            "kind": kind,
        },
        headers=headers,
    )
    assert booked.status_code == 201, booked.text
    return booked.json()["id"]


async def _cancel(client, headers, appointment_id) -> None:
    response = await client.post(
        f"/api/appointments/{appointment_id}/cancel",
        json={"reason": "Annulé par le patient", "by_patient": True},
        headers=headers,
    )
    assert response.status_code == 200, response.text


def _starts(bundle) -> list[str]:
    return [
        e["resource"]["start"]
        for e in bundle.get("entry", [])
        if e["resource"]["resourceType"] == "Slot"
    ]


async def test_a_cancelled_teleconsultation_slot_is_in_the_next_slot_search(
    app, client, db, clock, fhir
):
    today = clock().astimezone(PARIS).date()
    tomorrow = today + dt.timedelta(days=1)
    gp = await sas_gp(db, today)
    patient = await make_patient(db)
    await make_user(db, "secretaire", Role.secretary)
    await db.commit()
    secretary = await token(client, "secretaire")
    start = local(tomorrow, 14)
    params = slot_search_params(
        [f"8{gp.rpps}"], local(tomorrow, 14).isoformat(), local(tomorrow, 14, 30).isoformat()
    )
    first = _starts((await client.get("/fhir/Slot", params=params, headers=fhir)).json())
    assert first and first[0].startswith(start.strftime("%Y-%m-%dT14:00"))
    appointment_id = await _book(client, secretary, patient.id, gp.id, start, "teleconsultation")
    booked = _starts((await client.get("/fhir/Slot", params=params, headers=fhir)).json())
    assert not any(s.startswith(start.strftime("%Y-%m-%dT14:00")) for s in booked)
    await _cancel(client, secretary, appointment_id)
    freed = _starts((await client.get("/fhir/Slot", params=params, headers=fhir)).json())
    assert freed == first


async def test_a_cancelled_home_visit_drops_the_days_cached_windows_at_once(
    app,
    client,
    db,
    clock,
    fhir,
    fake_rounds,  # noqa: F811
):
    today = clock().astimezone(PARIS).date()
    gp = await make_practitioner(db, family_name="Visites")
    await add_week(db, gp, today, kinds=(SessionKind.home_visit,), horizon_days=2)
    for duty in (await db.scalars(select(DutySession))).all():
        duty.open_to_sas = True
    patient = await make_patient(db)
    await make_user(db, "secretaire", Role.secretary)
    await db.commit()
    secretary = await token(client, "secretaire")
    params = slot_search_params(
        [f"8{gp.rpps}"], local(today, 8).isoformat(), local(today, 23).isoformat()
    )

    async def search() -> int:
        response = await client.get("/fhir/Slot", params=params, headers=fhir)
        assert response.status_code == 200, response.text
        return len(fake_rounds.calls)

    assert await search() == 1
    assert await search() == 1  # cached (300 s)
    appointment_id = await _book(
        client, secretary, patient.id, gp.id, local(today, 11), "home_visit"
    )
    assert await search() == 2  # the booking dropped the day
    assert await search() == 2
    await _cancel(client, secretary, appointment_id)
    # The freed visit is seen by the very next search: the solver runs again.
    assert await search() == 3
