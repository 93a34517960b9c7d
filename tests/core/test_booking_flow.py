"""Intake → triage → booking → cancel through the HTTP API, with the audit trail."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.core.timeutil import PARIS, at

PATIENT = {
    "family_name": "Lefèvre",
    "given_name": "Paul",
    "birth_date": "1975-03-02",
    "sex": "male",
    "phone": "06 39 98 00 12",
    "address": "7 rue Fictive",
    "postal_code": "94230",
    "commune": "Cachan",
    "medecin_traitant_status": "none",
    "sms_consent": True,
}


async def _new_patient(client, headers, **overrides):
    response = await client.post("/api/patients", json={**PATIENT, **overrides}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_intake_triage_book_cancel_with_audit(client, world, db):
    patient = await _new_patient(client, world.secretary)
    assert patient["phone"] == "+33639980012"
    assert patient["latitude"] is not None  # placed at the commune's centre

    response = await client.post(
        "/api/requests",
        json={
            "patient_id": patient["id"],
            "reason": "Fièvre et toux depuis 2 jours",
            "urgency": "within_24h",
        },
        headers=world.secretary,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["triage"]["redirected_15"] is False
    assert created["request"]["status"] == "new"
    assert created["request"]["modality"] == "teleconsultation"
    # Received Monday 08:30 with 24 h → the close of Tuesday's care day.
    deadline = dt.datetime.fromisoformat(created["triage"]["deadline"])
    assert deadline == at(world.today + dt.timedelta(days=1), dt.time(20), PARIS)

    start = at(world.today, dt.time(14, 15), PARIS)
    response = await client.post(
        "/api/appointments",
        json={
            "request_id": created["request"]["id"],
            "practitioner_id": world.titular.id,
            "start_at": start.isoformat(),
        },
        headers=world.secretary,
    )
    assert response.status_code == 201, response.text
    appointment = response.json()
    assert appointment["status"] == "booked"
    assert appointment["kind"] == "teleconsultation"
    assert dt.datetime.fromisoformat(appointment["end_at"]) - start == dt.timedelta(minutes=15)
    assert appointment["act_code"] == "TCG"
    assert appointment["surcharges"] == []  # no médecin traitant: no MCG (issue 19)
    assert appointment["origin"] == "secretariat"

    request_now = await client.get(
        f"/api/requests/{created['request']['id']}", headers=world.secretary
    )
    assert request_now.json()["status"] == "scheduled"

    agenda = await client.get(
        f"/api/practitioners/{world.titular.id}/agenda",
        params={"date": world.today.isoformat()},
        headers=world.gp,
    )
    assert agenda.status_code == 200
    booked_ids = [a["id"] for s in agenda.json()["sessions"] for a in s["appointments"]]
    assert booked_ids == [appointment["id"]]

    response = await client.post(
        f"/api/appointments/{appointment['id']}/cancel",
        json={"reason": "Le patient va mieux", "by_patient": True},
        headers=world.secretary,
    )
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    request_now = await client.get(
        f"/api/requests/{created['request']['id']}", headers=world.secretary
    )
    assert request_now.json()["status"] == "cancelled"

    actions = (
        await db.execute(
            select(AuditEvent.action, AuditEvent.username)
            .where(AuditEvent.patient_id == patient["id"])
            .order_by(AuditEvent.id)
        )
    ).all()
    names = [a for a, _ in actions]
    for expected in ("create", "intake", "book", "cancel"):
        assert expected in names, names
    assert names.index("create") < names.index("book") < names.index("cancel")
    assert {u for _, u in actions} >= {"secretaire", "dr.martin"}  # the GP's agenda read is traced

    # The freed slot can be booked again.
    response = await client.post(
        "/api/requests",
        json={"patient_id": patient["id"], "reason": "Nouvelle demande"},
        headers=world.secretary,
    )
    response = await client.post(
        "/api/appointments",
        json={
            "request_id": response.json()["request"]["id"],
            "practitioner_id": world.titular.id,
            "start_at": start.isoformat(),
        },
        headers=world.secretary,
    )
    assert response.status_code == 201, response.text


async def test_red_flag_redirects_to_15_and_never_books(client, world, db):
    patient = await _new_patient(client, world.secretary)
    response = await client.post(
        "/api/requests",
        json={
            "patient_id": patient["id"],
            "reason": "Douleur dans la poitrine",
            "red_flags": ["chest_pain"],
        },
        headers=world.secretary,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["request"]["status"] == "redirected_15"
    assert body["triage"]["redirected_15"] is True
    assert "15" in body["triage"]["message"]
    assert body["triage"]["red_flags"] == [{"code": "chest_pain", "label": "Douleur thoracique"}]
    request_id = body["request"]["id"]
    start = at(world.today, dt.time(14, 30), PARIS)
    for headers, extra in (
        (world.secretary, {}),
        (world.coordinator, {"deadline_override_reason": "Le patient insiste"}),
        (
            world.secretary,
            {"kind": "home_visit", "start_at": at(world.today, dt.time(10, 30), PARIS).isoformat()},
        ),
        (world.regulator, {}),
    ):
        response = await client.post(
            "/api/appointments",
            json={
                "request_id": request_id,
                "practitioner_id": world.titular.id,
                "start_at": start.isoformat(),
                **extra,
            },
            headers=headers,
        )
        assert response.status_code in (403, 409), response.text
        if response.status_code == 409:
            assert response.json()["code"] == "redirected_15"
    # Nor can the request be moved to another status to sneak a booking in.
    response = await client.post(
        f"/api/requests/{request_id}/status", json={"status": "new"}, headers=world.secretary
    )
    assert response.status_code == 409
    from app.appointments.models import Appointment

    assert await db.scalar(select(func.count(Appointment.id))) == 0


async def test_unknown_red_flag_is_refused(client, world):
    patient = await _new_patient(client, world.secretary)
    response = await client.post(
        "/api/requests",
        json={"patient_id": patient["id"], "reason": "x", "red_flags": ["headache_mild"]},
        headers=world.secretary,
    )
    assert response.status_code == 422
    assert "Signe d'alerte inconnu" in response.json()["message"]


async def test_elderly_patient_is_same_day_and_home_visit_when_cannot_travel(client, world):
    patient = await _new_patient(
        client,
        world.secretary,
        family_name="Ancien",
        birth_date="1940-01-01",
        reduced_mobility=True,
    )
    response = await client.post(
        "/api/requests",
        json={"patient_id": patient["id"], "reason": "Chute sans gravité", "urgency": "within_48h"},
        headers=world.secretary,
    )
    body = response.json()
    assert body["request"]["urgency"] == "same_day"
    assert body["request"]["modality"] == "home_visit"
    assert dt.datetime.fromisoformat(body["request"]["deadline"]) == at(
        world.today, dt.time(20), PARIS
    )


async def test_deadline_override_is_required_and_recorded(client, world, clock):
    patient = await _new_patient(client, world.secretary)
    response = await client.post(
        "/api/requests",
        json={"patient_id": patient["id"], "reason": "Angine", "urgency": "same_day"},
        headers=world.secretary,
    )
    request_id = response.json()["request"]["id"]
    late = at(world.today + dt.timedelta(days=2), dt.time(15), PARIS)
    payload = {
        "request_id": request_id,
        "practitioner_id": world.titular.id,
        "start_at": late.isoformat(),
    }
    response = await client.post("/api/appointments", json=payload, headers=world.secretary)
    assert response.status_code == 409
    assert response.json()["code"] == "after_deadline"
    payload["deadline_override_reason"] = "Patiente indisponible avant mercredi"
    response = await client.post("/api/appointments", json=payload, headers=world.secretary)
    assert response.status_code == 201
    assert response.json()["deadline_override_reason"] == "Patiente indisponible avant mercredi"
