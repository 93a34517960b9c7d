"""Bad input gets a 422 with a clear French message, and nothing is written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.patients.models import Patient
from app.practitioners.models import Practitioner

GOOD_PATIENT = {
    "family_name": "Valide",
    "given_name": "Zoé",
    "birth_date": "1988-08-08",
    "sex": "female",
    "phone": "+33639980050",
    "nir": "2880875123456 21",
}


async def _counts(db):
    return (
        await db.scalar(select(func.count(Patient.id))),
        await db.scalar(select(func.count(Practitioner.id))),
        await db.scalar(select(func.count(AuditEvent.id))),
    )


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("nir", "2880875123456 00", "NIR"),
        ("nir", "28808751234", "NIR"),
        ("phone", "12345", "téléphone"),
        ("phone", "06 00", "téléphone"),
        ("birth_date", "2088-01-01", "futur"),
        ("birth_date", "31/12/1980", "Date invalide"),
        ("birth_date", "1980-02-30", "Date invalide"),
        ("family_name", "", "vide"),
        ("postal_code", "9423", "Format invalide"),
    ],
)
async def test_invalid_patient_is_refused_and_nothing_written(
    client, world, db, field, value, expected
):
    from stdnum.fr import nir

    assert nir.is_valid(GOOD_PATIENT["nir"])  # the reference payload itself is valid
    before = await _counts(db)
    response = await client.post(
        "/api/patients", json={**GOOD_PATIENT, field: value}, headers=world.secretary
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert expected in body["message"]
    assert any(error["field"] == field for error in body["errors"])
    assert await _counts(db) == before


async def test_reference_patient_is_accepted(client, world):
    response = await client.post("/api/patients", json=GOOD_PATIENT, headers=world.secretary)
    assert response.status_code == 201, response.text
    assert response.json()["nir"] == "288087512345621"


PRACTITIONER = {
    "family_name": "Nouvelle",
    "given_name": "Rose",
    "rpps": "99110009991",
    "address": "2 rue Exemple",
    "postal_code": "94260",
    "commune": "Fresnes",
    "latitude": 48.75,
    "longitude": 2.32,
}


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"rpps": "1234"}, "11 chiffres"),
        ({"rpps": "1234567890a"}, "11 chiffres"),
        ({"rpps": None, "idnps": "712345678901"}, "11 chiffres"),
        ({"rpps": "99110009991", "idnps": "899110009992"}, "IDNPS"),
        ({"status": "adjoint"}, "titulaire"),
        ({"phone": "abc"}, "téléphone"),
        ({"latitude": 123}, "trop grande"),
    ],
)
async def test_invalid_practitioner_is_refused(client, world, db, override, expected):
    before = await _counts(db)
    payload = {**PRACTITIONER, **override}
    response = await client.post("/api/practitioners", json=payload, headers=world.coordinator)
    assert response.status_code == 422, response.text
    assert expected in response.json()["message"]
    assert await _counts(db) == before


async def test_rpps_with_bad_luhn_is_accepted_with_a_warning(client, world):
    response = await client.post(
        "/api/practitioners",
        json={**PRACTITIONER, "rpps": "99110009990"},
        headers=world.coordinator,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["idnps"] == "899110009990"
    assert body["warnings"] and "Luhn" in body["warnings"][0]


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"start_at": "demain 10h"}, "Date et heure invalides"),
        ({"start_at": "2026-12-07T25:00:00"}, "Date et heure invalides"),
        ({"request_id": "abc"}, "Nombre entier"),
    ],
)
async def test_invalid_booking_payload(client, world, db, payload, expected):
    from app.appointments.models import Appointment

    base = {
        "request_id": 1,
        "practitioner_id": world.titular.id,
        "start_at": "2026-12-07T15:00:00+01:00",
    }
    response = await client.post(
        "/api/appointments", json={**base, **payload}, headers=world.secretary
    )
    assert response.status_code == 422
    assert expected in response.json()["message"]
    assert await db.scalar(select(func.count(Appointment.id))) == 0


async def test_session_times_validated(client, world):
    response = await client.post(
        f"/api/practitioners/{world.titular.id}/sessions",
        json={"date": "2026-12-08", "kind": "practice", "start_time": "12:00", "end_time": "11:00"},
        headers=world.coordinator,
    )
    assert response.status_code == 422
    assert "fin doit suivre" in response.json()["message"]


async def test_duplicate_patient_is_flagged(client, world):
    first = await client.post("/api/patients", json=GOOD_PATIENT, headers=world.secretary)
    assert first.status_code == 201
    same_person = {**GOOD_PATIENT, "family_name": "VALIDE", "given_name": "Zoe", "nir": None}
    response = await client.post("/api/patients", json=same_person, headers=world.secretary)
    assert response.status_code == 409
    # The candidates as the README promises: who they are, not ids alone.
    assert response.json()["duplicates"] == [
        {
            "id": first.json()["id"],
            "family_name": "Valide",
            "given_name": "Zoé",
            "birth_date": "1988-08-08",
            "commune": None,
        }
    ]
    assert "Doublon probable" in response.json()["message"]
    response = await client.post(
        "/api/patients", json={**same_person, "confirm_duplicate": True}, headers=world.secretary
    )
    assert response.status_code == 201
    found = await client.get(
        "/api/patients",
        params={"name": "valide", "birth_date": "1988-08-08"},
        headers=world.secretary,
    )
    assert len(found.json()) == 2
    by_phone = await client.get(
        "/api/patients", params={"phone": "06 39 98 00 50"}, headers=world.secretary
    )
    assert [p["id"] for p in by_phone.json()] == [first.json()["id"], response.json()["id"]]
