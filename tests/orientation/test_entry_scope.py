"""Who enters the orientation list: patients confirmed without médecin traitant, asked at the
first contact (SAS page, GP outcome); AME / no coverage on the PASS/CCAS route."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.appointments.models import Appointment
from app.audit.models import AuditEvent
from app.core.timeutil import PARIS
from app.orientation.models import OrientationCase
from app.patients.models import Patient
from tests.factories import make_patient
from tests.gp.helpers import book, local, new_request
from tests.sas.world import book_as_regulator, regulator, sas_gp


async def test_a_sas_patient_confirmed_without_medecin_traitant_at_the_outcome_is_oriented(
    app, client, db, world, clock
):
    # A SAS booking leaves the status unknown when the regulator did not ask.
    user = await regulator(db, "regul.2")
    gp_id = world.titular.id
    appointment_id = await book_as_regulator(app, user.id, gp_id, local(world.today, 16))
    appointment = await db.get(Appointment, appointment_id)
    patient = await db.get(Patient, appointment.patient_id)
    patient_id = patient.id
    assert patient.medecin_traitant_status == "unknown"
    db.expunge_all()
    await db.rollback()
    # The GP asks at the outcome: « non » → status none, and the patient enters the list.
    clock.set(local(world.today, 16, 10))
    response = await client.post(
        f"/api/me/appointments/{appointment_id}/outcome",
        json={"status": "fulfilled", "medecin_traitant_status": "none"},
        headers=world.gp,
    )
    assert response.status_code == 200, response.text
    patient = await db.get(Patient, patient_id)
    assert patient.medecin_traitant_status == "none"
    event = await db.scalar(
        select(AuditEvent).where(AuditEvent.action == "medecin_traitant_status")
    )
    assert event.detail == {"from": "unknown", "to": "none", "source": "gp_outcome"}
    swept = await client.post("/api/orientation/sweep", headers=world.coordinator)
    assert swept.json()["entered"] == 1
    cases = (await client.get("/api/orientation/cases", headers=world.secretary)).json()
    assert [c["patient_id"] for c in cases] == [patient_id]


async def test_an_unknown_status_never_enters_the_list(client, db, world, clock):
    _p, request_id = await new_request(client, world, db, medecin_traitant_status="unknown")
    booked = await book(client, world, request_id, world.titular.id, local(world.today, 14))
    clock.set(local(world.today, 14, 10))
    response = await client.post(
        f"/api/me/appointments/{booked['id']}/outcome",
        json={"status": "fulfilled"},
        headers=world.gp,
    )
    assert response.status_code == 200, response.text
    swept = await client.post("/api/orientation/sweep", headers=world.coordinator)
    assert swept.json()["entered"] == 0


async def test_the_sas_page_asks_the_status(app, db, clock):
    today = clock().astimezone(PARIS).date()
    gp = await sas_gp(db, today)
    user = await regulator(db)
    from app.sas import service as sas_service
    from tests.sas.world import context

    async with app.state.sessionmaker() as session, session.begin():
        from app.accounts.models import User

        actor = await session.get(User, user.id)
        booked = await sas_service.book_for_regulator(
            session=session,
            actor=actor,
            from_sas=True,
            practitioner_id=gp.id,
            kind="teleconsultation",
            start_at=local(today, 15),
            patient=sas_service.SasPatient(
                "Roux", "Léa", dt.date(1990, 1, 1), "motif", medecin_traitant_status="none"
            ),
            ctx=context(app),
        )
        patient_id = booked.patient_id
    assert (await db.get(Patient, patient_id)).medecin_traitant_status == "none"


async def test_ame_and_no_coverage_go_to_the_pass_ccas_route(client, db, world):
    ame = await make_patient(db, family_name="Ame", ame=True, phone="+33639980051")
    bare = await make_patient(db, family_name="Nue", no_coverage=True, phone="+33639980052")
    usual = await make_patient(db, family_name="Assure", phone="+33639980053")
    for patient in (ame, bare, usual):
        response = await client.post(
            f"/api/orientation/patients/{patient.id}",
            params={"consent": "true"},
            headers=world.secretary,
        )
        assert response.status_code == 200, response.text
    cases = {
        c["patient_id"]: c
        for c in (await client.get("/api/orientation/cases", headers=world.secretary)).json()
    }
    assert cases[ame.id]["route"] == "pass_ccas" and "ame" in cases[ame.id]["vulnerability"]
    assert cases[bare.id]["route"] == "pass_ccas"
    assert "no_coverage" in cases[bare.id]["vulnerability"]
    assert cases[usual.id]["route"] == "medecin_traitant"
    # Recorded as such: the entry event says PASS/CCAS.
    case = await db.scalar(select(OrientationCase).where(OrientationCase.patient_id == ame.id))
    assert case.route == "pass_ccas"
    # The batch proposes a médecin traitant only on the usual route.
    row = await db.get(type(world.titular), world.titular.id)
    row.accepts_new_patients, row.new_patient_capacity = True, 10
    await db.commit()
    batch = (await client.post("/api/orientation/batches", headers=world.coordinator)).json()
    assert batch["proposed"] == 1
    cases = {
        c["patient_id"]: c
        for c in (await client.get("/api/orientation/cases", headers=world.secretary)).json()
    }
    assert cases[usual.id]["status"] == "proposed"
    assert cases[ame.id]["status"] == cases[bare.id]["status"] == "to_orient"
