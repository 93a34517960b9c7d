"""Identity on the regulator path: never a silent merge, never a file found by matching;
the secretariat sees the probable duplicates and merges them with a confirmation."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from app.appointments.models import Appointment
from app.audit.models import AuditEvent
from app.core.timeutil import PARIS
from app.patients.models import Patient
from app.requests.models import CareRequest
from tests.factories import make_patient, make_user, token
from tests.sas.world import (
    book_as_regulator,
    csrf_of,
    local,
    login,
    regulator,
    sas_gp,
    slot_values,
)


async def _attack(client, db, clock):
    """Issue 20 finding 1, step by step: the regulator books on the SAS page with an
    existing patient's name and birth date (and phone)."""
    today = clock().astimezone(PARIS).date()
    gp = await sas_gp(db, today)
    user = await regulator(db)
    known = await make_patient(
        db, family_name="Lemoine", given_name="Rose", nir="285047512345607", phone="+33639980042"
    )
    target = f"/sas/praticiens/{gp.id}?origin=sas"
    await client.get(target)
    await login(client, user.username, next_url=target)
    page = (await client.get(target)).text
    response = await client.post(
        f"/sas/praticiens/{gp.id}/reserver",
        data={
            "family_name": "LEMOINE",
            "given_name": "rose",
            "birth_date": known.birth_date.isoformat(),
            "phone": "06 39 98 00 42",
            "reason": "Otalgie",
            "slot": slot_values(page)[0],
            "csrf_token": csrf_of(page),
        },
    )
    assert response.status_code == 303, response.text
    appointment = await db.scalar(select(Appointment))
    username = user.username
    db.expunge_all()
    await db.rollback()
    return username, known, appointment, await token(client, username)


async def test_the_regulator_never_reads_a_file_found_by_identity_matching(client, db, clock):
    _username, known, appointment, bearer = await _attack(client, db, clock)
    # A new record for the SAS, not the existing file.
    assert appointment.patient_id != known.id
    assert await db.scalar(select(func.count()).select_from(Patient)) == 2
    # The exact attack of the issue: 404, indistinguishable from a missing id.
    existing = await client.get(f"/api/patients/{known.id}", headers=bearer)
    missing = await client.get("/api/patients/999999", headers=bearer)
    assert existing.status_code == missing.status_code == 404
    assert existing.json()["message"] == f"Patient n°{known.id} introuvable."
    # Nothing says another file exists: no "match" audit event, no hint on the page.
    matched = await db.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "match")
    )
    assert matched == 0
    # The regulator reads back what they entered, and nothing else.
    own = await client.get(f"/api/patients/{appointment.patient_id}", headers=bearer)
    assert own.status_code == 200, own.text
    body = own.json()
    assert (body["family_name"], body["phone"]) == ("LEMOINE", "+33639980042")
    assert body["nir"] is None and body["address"] is None
    # Once they cancel their booking, not even that.
    cancelled = await client.post(
        f"/api/appointments/{appointment.id}/cancel", json={"reason": "test"}, headers=bearer
    )
    assert cancelled.status_code == 200, cancelled.text
    after = await client.get(f"/api/patients/{appointment.patient_id}", headers=bearer)
    assert after.status_code == 404


async def test_twins_on_a_parents_phone_stay_two_records(app, db, clock):
    today = clock().astimezone(PARIS).date()
    gp = await sas_gp(db, today)
    user = await regulator(db)
    common = {"birth_date": dt.date(2019, 3, 2), "phone": "+33639980077"}
    first = await book_as_regulator(
        app, user.id, gp.id, local(today, 15), family_name="Roux", given_name="Léa", **common
    )
    second = await book_as_regulator(
        app, user.id, gp.id, local(today, 15, 15), family_name="Roux", given_name="Noé", **common
    )
    a, b = await db.get(Appointment, first), await db.get(Appointment, second)
    assert a.patient_id != b.patient_id


async def test_the_secretariat_sees_the_duplicate_and_merges_it_with_a_confirmation(
    client, db, clock
):
    username, known, appointment, _bearer = await _attack(client, db, clock)
    await make_user(db, "secretaire", _role("secretary"))
    secretary = await token(client, "secretaire")
    sas_record = appointment.patient_id
    # The probable duplicate is shown to the secretariat.
    found = await client.get(f"/api/patients/{known.id}/duplicates", headers=secretary)
    assert found.status_code == 200, found.text
    assert [p["id"] for p in found.json()] == [sas_record]
    # Without the confirmation: 409, both files shown, nothing moved.
    url = f"/api/patients/{known.id}/merge"
    response = await client.post(url, json={"duplicate_id": sas_record}, headers=secretary)
    assert response.status_code == 409
    assert response.json()["code"] == "merge_unconfirmed"
    assert "Confirmez la fusion" in response.json()["message"]
    # Confirmed: the appointment and the request move to the kept record; audited.
    response = await client.post(
        url, json={"duplicate_id": sas_record, "confirm": True}, headers=secretary
    )
    assert response.status_code == 200, response.text
    moved = await db.get(Appointment, appointment.id)
    assert moved.patient_id == known.id
    care_request = await db.get(CareRequest, moved.request_id)
    assert care_request.patient_id == known.id
    merged = await db.get(Patient, sas_record)
    assert merged.merged_into_id == known.id
    events = (
        await db.scalars(
            select(AuditEvent).where(AuditEvent.action == "merge").order_by(AuditEvent.id)
        )
    ).all()
    assert [(e.patient_id, e.username) for e in events] == [
        (known.id, "secretaire"),
        (sas_record, "secretaire"),
    ]
    assert events[0].detail["moved"]["appointments"] == 1
    # The merged record is out of the duplicates and of the search.
    found = await client.get(f"/api/patients/{known.id}/duplicates", headers=secretary)
    assert found.json() == []
    # The regulator does not follow their booking into the CPTS's file.
    bearer = await token(client, username)
    assert (await client.get(f"/api/patients/{sas_record}", headers=bearer)).status_code == 404
    assert (await client.get(f"/api/patients/{known.id}", headers=bearer)).status_code == 404
    # Two different NIRs are two people: never merged.
    await db.rollback()
    other = await make_patient(
        db, family_name="Lemoine", given_name="Rose", nir="285047512345706", phone=None
    )
    response = await client.post(
        url, json={"duplicate_id": other.id, "confirm": True}, headers=secretary
    )
    assert response.status_code == 409 and "NIR différents" in response.json()["message"]


def _role(name: str):
    from app.accounts.models import Role

    return Role(name)
