"""The orientation list through the HTTP API: entry, consent, batch, answers, declaration."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.appointments.models import AppointmentStatus
from app.audit.models import AuditEvent
from app.core.timeutil import PARIS
from app.orientation import service as orientation_service
from app.outbox.models import OutboxMessage
from app.patients.models import Patient
from app.practitioners.models import Practitioner
from tests.factories import make_patient
from tests.indicators.seed import appointment, care_request, duty


async def _capacity(db, practitioner, capacity: int, accepts: bool = True) -> None:
    row = await db.get(Practitioner, practitioner.id)
    row.accepts_new_patients = accepts
    row.new_patient_capacity = capacity
    await db.commit()


async def _seen(db, patient, practitioner, start, status=AppointmentStatus.fulfilled):
    session = await duty(db, practitioner, start)
    request = await care_request(db, patient.id, start - dt.timedelta(hours=3))
    await appointment(db, request, practitioner, session, start, status=status)
    await db.commit()


async def _enter(client, world, patient, consent=True):
    response = await client.post(
        f"/api/orientation/patients/{patient.id}",
        params={"consent": str(consent).lower()},
        headers=world.secretary,
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_patients_seen_without_medecin_traitant_enter_the_list(client, db, world, clock):
    start = clock() - dt.timedelta(days=1)
    seen = await make_patient(db, family_name="Vu", ald=True, phone="+33639980011")
    declared = await make_patient(
        db, family_name="Suivi", medecin_traitant_status="declared", phone="+33639980012"
    )
    only_booked = await make_patient(db, family_name="Attente", phone="+33639980013")
    await _seen(db, seen, world.titular, start)
    await _seen(db, declared, world.titular, start + dt.timedelta(minutes=30))
    await _seen(
        db, only_booked, world.titular, start + dt.timedelta(hours=1), AppointmentStatus.booked
    )

    response = await client.post("/api/orientation/sweep", headers=world.coordinator)
    assert response.status_code == 200, response.text
    assert response.json()["entered"] == 1
    cases = (await client.get("/api/orientation/cases", headers=world.secretary)).json()
    assert [c["patient_id"] for c in cases] == [seen.id]
    assert cases[0]["status"] == "to_orient"
    assert cases[0]["vulnerability"] == ["ald"]
    assert cases[0]["commune_insee"] == "94016"
    assert cases[0]["consent"] == "unknown"
    # The lead's outcome flow calls enter_patient: idempotent, and None with a médecin traitant.
    again = await orientation_service.enter_patient(
        session=db, patient_id=seen.id, actor=None, now=clock()
    )
    assert again is not None and again.id == cases[0]["id"]
    assert (
        await orientation_service.enter_patient(
            session=db, patient_id=declared.id, actor=None, now=clock()
        )
        is None
    )
    # Second sweep: nothing new.
    response = await client.post("/api/orientation/sweep", headers=world.coordinator)
    assert response.json()["entered"] == 0


async def test_every_transition_records_who_and_when(client, db, world, clock):
    await _capacity(db, world.titular, 3)
    patient = await make_patient(db, phone="+33639980021")
    case = await _enter(client, world, patient)
    assert case["consent"] == "given"
    t0 = clock()

    clock.advance(dt.timedelta(hours=1))
    batch = await client.post("/api/orientation/batches", headers=world.coordinator)
    assert batch.status_code == 201, batch.text
    assert batch.json()["proposed"] == 1
    clock.advance(dt.timedelta(hours=1))
    answered = await client.post(
        f"/api/orientation/cases/{case['id']}/answer",
        json={"accepted": True, "note": "Rappelée, d'accord"},
        headers=world.secretary,
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "accepted"
    assert answered.json()["proposed_gp"] == "Dr Claire Martin"
    clock.advance(dt.timedelta(days=2))
    declared = await client.post(
        f"/api/orientation/cases/{case['id']}/declare", headers=world.secretary
    )
    assert declared.status_code == 200, declared.text

    detail = (
        await client.get(f"/api/orientation/cases/{case['id']}", headers=world.coordinator)
    ).json()
    steps = [
        (e["from_status"], e["to_status"], e["actor_name"], dt.datetime.fromisoformat(e["at"]))
        for e in detail["events"]
    ]
    assert steps == [
        (None, "to_orient", "secretaire", t0),
        ("to_orient", "proposed", "coordination", t0 + dt.timedelta(hours=1)),
        ("proposed", "accepted", "secretaire", t0 + dt.timedelta(hours=2)),
        ("accepted", "declared", "secretaire", t0 + dt.timedelta(hours=2, days=2)),
    ]
    assert all(e["practitioner_id"] == world.titular.id for e in detail["events"][1:])

    await db.refresh(await db.get(Patient, patient.id))
    row = await db.get(Patient, patient.id)
    assert row.medecin_traitant_status == "declared"
    assert row.medecin_traitant_id == world.titular.id
    actions = (
        await db.scalars(select(AuditEvent.action).where(AuditEvent.patient_id == patient.id))
    ).all()
    for action in ("orientation_enter", "orientation_propose", "orientation_answer"):
        assert action in actions
    assert "orientation_declare" in actions

    # The GP is told through the outbox, once.
    messages = (
        await db.scalars(
            select(OutboxMessage).where(OutboxMessage.topic == "orientation_notification")
        )
    ).all()
    assert len(messages) == 1
    payload = messages[0].payload
    assert payload["channel"] == "sms"
    assert payload["gp"] == {"kind": "platform", "id": world.titular.id, "name": "Dr Claire Martin"}
    assert f"ORI-{case['id']}" in payload["body"]

    # A declared case is finished.
    again = await client.post(
        f"/api/orientation/cases/{case['id']}/answer",
        json={"accepted": False},
        headers=world.secretary,
    )
    assert again.status_code == 409


async def test_adjoints_are_never_proposed(client, db, world):
    await _capacity(db, world.adjoint, 50)
    await _capacity(db, world.titular, 0)
    patient = await make_patient(db, phone="+33639980031")
    case = await _enter(client, world, patient)

    gps = (await client.get("/api/orientation/gps", headers=world.secretary)).json()
    assert world.adjoint.id not in [g["id"] for g in gps if g["kind"] == "platform"]
    batch = (await client.post("/api/orientation/batches", headers=world.coordinator)).json()
    assert batch["proposed"] == 0
    assert batch["unmatched_cases"][0]["code"] == "no_gp_for_commune"
    manual = await client.post(
        f"/api/orientation/cases/{case['id']}/propose",
        json={"practitioner_id": world.adjoint.id},
        headers=world.secretary,
    )
    assert manual.status_code == 409
    assert manual.json()["code"] == "adjoint_not_medecin_traitant"


async def test_a_refused_gp_is_not_proposed_again(client, db, world):
    await _capacity(db, world.titular, 5)
    await _capacity(db, world.other_titular, 5)
    patient = await make_patient(db, phone="+33639980041")
    case = await _enter(client, world, patient)

    await client.post("/api/orientation/batches", headers=world.coordinator)
    first = await client.get(f"/api/orientation/cases/{case['id']}", headers=world.secretary)
    assert first.json()["case"]["proposed_gp_id"] == world.titular.id  # the closest
    refused = await client.post(
        f"/api/orientation/cases/{case['id']}/answer",
        json={"accepted": False, "note": "Trop loin de son travail"},
        headers=world.secretary,
    )
    assert refused.json()["status"] == "refused"
    await client.post("/api/orientation/batches", headers=world.coordinator)
    second = await client.get(f"/api/orientation/cases/{case['id']}", headers=world.secretary)
    assert second.json()["case"]["proposed_gp_id"] == world.other_titular.id
    await client.post(
        f"/api/orientation/cases/{case['id']}/answer",
        json={"accepted": False},
        headers=world.secretary,
    )
    third = (await client.post("/api/orientation/batches", headers=world.coordinator)).json()
    assert third["proposed"] == 0
    assert third["unmatched_cases"] == [
        {
            "case_id": case["id"],
            "code": "all_refused",
            "reason": "Le patient a déjà refusé tous les médecins qui couvrent sa commune.",
        }
    ]
    manual = await client.post(
        f"/api/orientation/cases/{case['id']}/propose",
        json={"practitioner_id": world.titular.id},
        headers=world.secretary,
    )
    assert manual.status_code == 409 and manual.json()["code"] == "already_refused"


async def test_monthly_capacity_and_vulnerable_first(client, db, world, clock):
    await _capacity(db, world.titular, 1)
    plain = await make_patient(db, family_name="Plain", phone="+33639980051")
    old = await make_patient(
        db, family_name="Aine", birth_date=dt.date(1940, 1, 1), phone="+33639980052"
    )
    first = await _enter(client, world, plain)
    clock.advance(dt.timedelta(days=3))
    second = await _enter(client, world, old)

    batch = (await client.post("/api/orientation/batches", headers=world.coordinator)).json()
    assert batch["proposed"] == 1
    assert batch["capacity_total"] == 1
    assert batch["unmatched_cases"][0]["case_id"] == first["id"]
    assert batch["unmatched_cases"][0]["code"] == "capacity_exhausted"
    cases = {
        c["id"]: c
        for c in (await client.get("/api/orientation/cases", headers=world.secretary)).json()
    }
    assert cases[second["id"]]["status"] == "proposed"
    assert cases[second["id"]]["vulnerability"] == ["age_70"]
    assert "Capacité épuisée" in cases[first["id"]]["unmatched_reason"]
    gps = (await client.get("/api/orientation/gps", headers=world.secretary)).json()
    mine = next(g for g in gps if g["kind"] == "platform" and g["id"] == world.titular.id)
    assert (mine["capacity"], mine["remaining"]) == (1, 0)


async def test_consent_is_required_and_a_refusal_closes_the_case(client, db, world):
    await _capacity(db, world.titular, 5)
    patient = await make_patient(db, phone="+33639980061")
    other = await make_patient(db, family_name="Autre", phone="+33639980062")
    case = await client.post(f"/api/orientation/patients/{patient.id}", headers=world.secretary)
    case = case.json()
    assert case["consent"] == "unknown"
    batch = (await client.post("/api/orientation/batches", headers=world.secretary)).json()
    assert batch["unmatched_cases"][0]["code"] == "consent_unknown"
    declare = await client.post(
        f"/api/orientation/cases/{case['id']}/declare", headers=world.secretary
    )
    assert declare.status_code == 409 and declare.json()["code"] == "invalid_transition"

    other_case = (
        await client.post(f"/api/orientation/patients/{other.id}", headers=world.secretary)
    ).json()
    refused = await client.post(
        f"/api/orientation/cases/{other_case['id']}/consent",
        json={"given": False},
        headers=world.secretary,
    )
    assert refused.json()["status"] == "closed"
    assert refused.json()["close_reason"] == "consent_refused"


async def test_territory_gps_registered_by_the_coordinator_are_proposed(client, db, world):
    gp = {
        "family_name": "Lambert",
        "given_name": "Hugo",
        "rpps": "99100000999",
        "address": "3 place du Marché",
        "postal_code": "94260",
        "commune": "Fresnes",
        "commune_insee": "94034",
        "latitude": 48.7558,
        "longitude": 2.3222,
        "email": "cabinet.lambert@example.invalid",
        "languages": ["fr", "pt"],
        "communes_covered": ["94034"],
        "monthly_capacity": 4,
    }
    forbidden = await client.post(
        "/api/orientation/territory-gps", json=gp, headers=world.secretary
    )
    assert forbidden.status_code == 403
    created = await client.post(
        "/api/orientation/territory-gps", json=gp, headers=world.coordinator
    )
    assert created.status_code == 201, created.text
    fresnes = await make_patient(
        db,
        commune="Fresnes",
        commune_insee="94034",
        latitude=48.7558,
        longitude=2.3222,
        postal_code="94260",
        phone="+33639980071",
        language="pt",
    )
    cachan = await make_patient(db, family_name="Cachanais", phone="+33639980072")
    f_case = await _enter(client, world, fresnes)
    c_case = await _enter(client, world, cachan)
    batch = (await client.post("/api/orientation/batches", headers=world.coordinator)).json()
    assert batch["proposed"] == 1
    cases = {
        c["id"]: c
        for c in (await client.get("/api/orientation/cases", headers=world.secretary)).json()
    }
    assert cases[f_case["id"]]["proposed_gp_kind"] == "territory"
    assert cases[f_case["id"]]["proposed_gp"] == "Dr Hugo Lambert"
    assert "parle la langue du patient" in cases[f_case["id"]]["proposal_explanation"]
    assert cases[c_case["id"]]["unmatched_reason"].startswith("Aucun médecin")
    # Accepted: the e-mail-only GP is told by e-mail.
    await client.post(
        f"/api/orientation/cases/{f_case['id']}/answer",
        json={"accepted": True},
        headers=world.secretary,
    )
    message = await db.scalar(
        select(OutboxMessage).where(OutboxMessage.topic == "orientation_notification")
    )
    assert message.payload["channel"] == "email"
    assert message.payload["to"] == "cabinet.lambert@example.invalid"


async def test_only_staff_reach_the_list(client, world):
    for headers in (world.regulator, world.gp):
        response = await client.get("/api/orientation/cases", headers=headers)
        assert response.status_code == 403
    assert (await client.get("/api/orientation/cases")).status_code == 401
    batch = await client.post("/api/orientation/batches", headers=world.gp)
    assert batch.status_code == 403


async def test_the_periodic_sweep_enters_patients_seen(app, client, db, world, clock):
    jobs = {name: (interval, fn) for name, interval, fn in app.state.periodic_jobs}
    interval, job = jobs["orientation.sweep"]
    assert interval == 3600
    patient = await make_patient(db, phone="+33639980081")
    await _seen(db, patient, world.titular, clock() - dt.timedelta(hours=2))
    await job(app)
    cases = (await client.get("/api/orientation/cases", headers=world.secretary)).json()
    assert [(c["patient_id"], c["status"]) for c in cases] == [(patient.id, "to_orient")]
    entered = dt.datetime.fromisoformat(cases[0]["entered_at"])
    assert entered == clock() and entered.astimezone(PARIS).hour == 8


async def test_recording_a_fulfilled_outcome_enters_the_patient(client, db, world, clock):
    """Through the API: the GP records "fulfilled" and the patient is on the list at once."""
    from app.core.timeutil import at

    patient = await make_patient(db, family_name="Sansmt", phone="+33639980014")
    response = await client.post(
        "/api/requests", json={"patient_id": patient.id, "reason": "Toux"}, headers=world.secretary
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
    assert response.status_code == 201, response.text
    cases = (await client.get("/api/orientation/cases", headers=world.secretary)).json()
    assert cases == []  # booked is not seen
    clock.set(at(world.today, dt.time(14, 10), PARIS))  # « vu » from the start
    response = await client.post(
        f"/api/appointments/{response.json()['id']}/status",
        json={"status": "fulfilled"},
        headers=world.gp,
    )
    assert response.status_code == 200, response.text
    cases = (await client.get("/api/orientation/cases", headers=world.secretary)).json()
    assert [c["patient_id"] for c in cases] == [patient.id]
