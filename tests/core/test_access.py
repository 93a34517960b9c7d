"""401 without credentials, 403 for a wrong role, GPs confined to their own agenda."""

from __future__ import annotations

import datetime as dt

import pytest

from app.core.timeutil import PARIS, at
from tests.factories import make_patient


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/practitioners"),
        ("get", "/api/patients?phone=0639980001"),
        ("post", "/api/requests"),
        ("post", "/api/appointments"),
        ("get", "/api/practitioners/1/agenda"),
        ("get", "/api/me"),
    ],
)
async def test_no_credentials_is_401(client, world, method, path):
    response = await client.request(method, path, json={} if method == "post" else None)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "Authentification" in response.json()["message"]


async def test_bad_password_and_forged_token_are_401(client, world):
    response = await client.post(
        "/api/auth/token", data={"username": "secretaire", "password": "faux"}
    )
    assert response.status_code == 401
    assert response.json()["message"] == "Identifiant ou mot de passe incorrect."
    forged = {"Authorization": "Bearer eyJ1aWQiOjF9.forged.signature"}
    assert (await client.get("/api/me", headers=forged)).status_code == 401


async def test_revoked_account_token_stops_working(client, world, db):
    from app.accounts import service as accounts_service

    assert (await client.get("/api/me", headers=world.secretary)).status_code == 200
    user = await accounts_service.get_by_username(session=db, username="secretaire")
    await accounts_service.revoke(session=db, user=user)
    await db.commit()
    assert (await client.get("/api/me", headers=world.secretary)).status_code == 401


async def test_roles_are_enforced(client, world, db):
    patient = await make_patient(db)
    practitioner_payload = {
        "family_name": "Nouveau",
        "given_name": "Ana",
        "rpps": "99110009991",
        "address": "2 rue Exemple",
        "postal_code": "94260",
        "commune": "Fresnes",
        "latitude": 48.75,
        "longitude": 2.32,
    }
    # Only the roster managers add practitioners.
    for headers in (world.secretary, world.gp, world.regulator):
        response = await client.post(
            "/api/practitioners", json=practitioner_payload, headers=headers
        )
        assert response.status_code == 403
        assert "rôle" in response.json()["message"]
    response = await client.post(
        "/api/practitioners", json=practitioner_payload, headers=world.coordinator
    )
    assert response.status_code == 201, response.text
    # A GP cannot take intake or create patients.
    response = await client.post(
        "/api/requests", json={"patient_id": patient.id, "reason": "x"}, headers=world.gp
    )
    assert response.status_code == 403
    # A GP reads only the patients they have seen; a record they may not read answers like
    # a missing one (404), so ids cannot be enumerated.
    assert (await client.get(f"/api/patients/{patient.id}", headers=world.gp)).status_code == 404
    assert (
        await client.get(f"/api/patients/{patient.id}", headers=world.secretary)
    ).status_code == 200
    # The regulator sees no patient they did not refer.
    assert (
        await client.get(f"/api/patients/{patient.id}", headers=world.regulator)
    ).status_code == 404


async def test_gp_reads_only_own_agenda(client, world, db):
    date = world.today.isoformat()
    own = await client.get(
        f"/api/practitioners/{world.titular.id}/agenda?date={date}", headers=world.gp
    )
    assert own.status_code == 200
    assert own.json()["practitioner_id"] == world.titular.id
    assert [s["kind"] for s in own.json()["sessions"]] == ["home_visit", "teleconsultation"]
    other = await client.get(
        f"/api/practitioners/{world.other_titular.id}/agenda?date={date}", headers=world.gp
    )
    assert other.status_code == 403
    assert "propre agenda" in other.json()["message"]
    staff = await client.get(
        f"/api/practitioners/{world.other_titular.id}/agenda?date={date}", headers=world.secretary
    )
    assert staff.status_code == 200
    regulator = await client.get(
        f"/api/practitioners/{world.other_titular.id}/agenda?date={date}", headers=world.regulator
    )
    assert regulator.status_code == 403


async def test_gp_cannot_touch_another_gps_appointment(client, world, db):
    patient = await make_patient(db)
    response = await client.post(
        "/api/requests", json={"patient_id": patient.id, "reason": "x"}, headers=world.secretary
    )
    response = await client.post(
        "/api/appointments",
        json={
            "request_id": response.json()["request"]["id"],
            "practitioner_id": world.titular.id,
            "start_at": at(world.today, dt.time(14), PARIS).isoformat(),
        },
        headers=world.secretary,
    )
    appointment_id = response.json()["id"]
    response = await client.post(
        f"/api/appointments/{appointment_id}/status",
        json={"status": "fulfilled"},
        headers=world.other_gp,
    )
    assert response.status_code == 403
    # The GP who holds it now reads the patient (seen by them).
    assert (await client.get(f"/api/patients/{patient.id}", headers=world.gp)).status_code == 200


async def test_a_gp_stops_reading_the_patient_once_the_only_appointment_is_cancelled(
    client, world, db
):
    """Issue 20 finding 7: a cancelled appointment no longer opens the file, and an id the
    caller may not read answers exactly like a missing one."""
    patient = await make_patient(db)
    response = await client.post(
        "/api/requests", json={"patient_id": patient.id, "reason": "x"}, headers=world.secretary
    )
    response = await client.post(
        "/api/appointments",
        json={
            "request_id": response.json()["request"]["id"],
            "practitioner_id": world.titular.id,
            "start_at": at(world.today, dt.time(14), PARIS).isoformat(),
        },
        headers=world.secretary,
    )
    appointment_id = response.json()["id"]
    url = f"/api/patients/{patient.id}"
    assert (await client.get(url, headers=world.gp)).status_code == 200
    cancelled = await client.post(
        f"/api/appointments/{appointment_id}/cancel", json={}, headers=world.secretary
    )
    assert cancelled.status_code == 200, cancelled.text
    hidden = await client.get(url, headers=world.gp)
    missing = await client.get("/api/patients/987654", headers=world.gp)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["message"] == f"Patient n°{patient.id} introuvable."
    assert missing.json()["message"] == "Patient n°987654 introuvable."


async def test_demo_accounts_only_open_in_demo_mode(client, db, app):
    from app.accounts import service as accounts_service
    from app.accounts.models import Role

    await accounts_service.create(
        session=db, username="secretaire", password="demo", role=Role.secretary, demo_only=True
    )
    await db.commit()
    form = {"username": "secretaire", "password": "demo"}
    assert (await client.post("/api/auth/token", data=form)).status_code == 401
    app.state.settings.demo = True
    assert (await client.post("/api/auth/token", data=form)).status_code == 200
