"""Recording an outcome: the act, its surcharges, the SAS told, billing under the titular."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import importlib.util

import pytest
from sqlalchemy import select, update

from app.appointments.models import Appointment
from app.gp.models import VisitOutcome
from app.outbox.models import OutboxMessage
from tests.fake_video import FakeVideo
from tests.gp.helpers import book, book_sas, local, new_request

SAS_WIRED = importlib.util.find_spec("app.sas.wiring") is not None


@pytest.fixture(autouse=True)
def video(app) -> FakeVideo:
    """Teleconsultations are video calls here (a TCG needs video): a fake provider."""
    app.state.video = FakeVideo()
    return app.state.video


def _listen(app):
    heard = []

    async def listener(session, event):
        heard.append((str(event.kind), event.appointment.id, str(event.appointment.status)))

    app.state.appointment_listeners.append(listener)
    return heard


async def _outcome(client, headers, appointment_id, **body):
    return await client.post(
        f"/api/me/appointments/{appointment_id}/outcome",
        json={"status": "fulfilled", **body},
        headers=headers,
    )


async def test_a_secretariat_teleconsultation_without_medecin_traitant_bills_tcg_alone(
    client, world, db, clock
):
    """Patient sans médecin traitant, téléconsultation lundi 14:00 → TCG 25 €, ni MCG ni SNP."""
    _p, request_id = await new_request(client, world, db)
    appointment = await book(client, world, request_id, world.titular.id, local(world.today, 14))
    clock.set(local(world.today, 14, 5))  # outcomes are recorded after the start
    response = await _outcome(client, world.gp, appointment["id"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "fulfilled"
    assert body["billing"]["act_code"] == "TCG"
    assert body["billing"]["surcharges"] == []
    assert body["billing"]["total"] == "25.00"
    assert "sans médecin traitant" in body["billing"]["reasons"]["MCG"]
    assert body["billing"]["reasons"]["SNP"].startswith("non : patient non adressé")
    assert body["sas_update"] is False
    # Asking for a surcharge that does not apply is refused with the reason.
    _p, other = await new_request(client, world, db)
    second = await book(client, world, other, world.titular.id, local(world.today, 14, 15))
    clock.set(local(world.today, 14, 20))
    response = await _outcome(client, world.gp, second["id"], surcharges=["SNP"])
    assert response.status_code == 409
    assert "SNP" in response.json()["message"] and "régulateur" in response.json()["message"]
    # Nor can an MCG be added for a patient without médecin traitant.
    response = await _outcome(client, world.gp, second["id"], add_surcharges=["MCG"])
    assert response.status_code == 409
    assert "sans médecin traitant" in response.json()["message"]
    # Recorded once, then twice: refused.
    response = await _outcome(client, world.gp, second["id"])
    assert response.status_code == 200
    response = await _outcome(client, world.gp, second["id"])
    assert response.status_code == 409


async def test_a_home_visit_bills_vg_with_md_and_a_noshow_bills_nothing(client, world, db, clock):
    """Patient sans médecin traitant, visite lundi 10:00 → VG+MD 40 €, pas de MCG."""
    _p, r1 = await new_request(client, world, db)
    visit = await book(
        client, world, r1, world.titular.id, local(world.today, 10), kind="home_visit"
    )
    clock.set(local(world.today, 10, 30))
    response = await _outcome(client, world.gp, visit["id"])
    assert response.json()["billing"]["act_code"] == "VG"
    assert response.json()["billing"]["surcharges"] == ["MD"]
    assert response.json()["billing"]["total"] == "40.00"
    _p, r2 = await new_request(client, world, db)
    missed = await book(client, world, r2, world.titular.id, local(world.today, 15))
    clock.set(local(world.today, 15, 15))  # absent: from the start + 15 min of grace
    response = await _outcome(client, world.gp, missed["id"], status="noshow")
    assert response.status_code == 200
    assert response.json()["billing"]["act_code"] is None
    assert response.json()["billing"]["surcharges"] == []
    row = await db.get(Appointment, missed["id"])
    assert row.status == "noshow" and row.act_code is None


async def test_a_sas_referral_bills_snp_within_the_weekly_ceiling_and_tells_the_sas(
    app, client, world, db, clock
):
    app.state.tariffs = dataclasses.replace(app.state.tariffs, snp_weekly_ceiling=1)
    heard = _listen(app)
    _p, r1 = await new_request(client, world, db)
    first = await book_sas(app, db, r1, world.titular.id, local(world.today, 16))
    _p, r2 = await new_request(client, world, db)
    second = await book_sas(app, db, r2, world.titular.id, local(world.today, 16, 15))
    _p, r3 = await new_request(client, world, db)
    late = await book_sas(app, db, r3, world.titular.id, local(world.today, 16, 30))
    # The third was referred more than 48 h before the care.
    await db.execute(
        update(Appointment)
        .where(Appointment.id == late)
        .values(sas_referral_at=local(world.today, 16) - dt.timedelta(hours=49))
    )
    await db.commit()
    clock.set(local(world.today, 17))  # the GP records after the consultations

    response = await _outcome(client, world.gp, first)
    billing = response.json()["billing"]
    assert billing["act_code"] == "TCG"
    assert billing["surcharges"] == ["SNP"]
    assert billing["reasons"]["MCG"] == "non : non cumulable avec la majoration SNP"
    assert response.json()["sas_update"] is True

    response = await _outcome(client, world.gp, second)
    billing = response.json()["billing"]
    assert "SNP" not in billing["surcharges"]
    assert "plafond hebdomadaire" in billing["reasons"]["SNP"]
    assert billing["surcharges"] == []  # no médecin traitant: no MCG either

    response = await _outcome(client, world.gp, late)
    assert "plus de 48 h" in response.json()["billing"]["reasons"]["SNP"]

    # The SAS is told (INT_R03) through the outcome event of each SAS booking.
    assert [i for kind, i, _s in heard if kind == "outcome"] == [first, second, late]
    if SAS_WIRED:
        messages = (
            await db.scalars(select(OutboxMessage).where(OutboxMessage.topic == "sas_appointment"))
        ).all()
        outcome_pushes = [m.payload for m in messages if m.payload.get("event") == "outcome"]
        assert {p["appointment_id"] for p in outcome_pushes} == {first, second, late}
        assert {p["status"] for p in outcome_pushes} == {"fulfilled"}
    rows = (await db.scalars(select(VisitOutcome).order_by(VisitOutcome.id))).all()
    assert [r.surcharges for r in rows] == [["SNP"], [], []]


async def test_an_adjoints_act_is_billed_under_the_titular(client, world, db, clock):
    _p, request_id = await new_request(client, world, db)
    appointment = await book(client, world, request_id, world.adjoint.id, local(world.today, 14))
    clock.set(local(world.today, 14, 10))
    response = await _outcome(client, world.adjoint_gp, appointment["id"])
    assert response.status_code == 200, response.text
    billing = response.json()["billing"]
    assert billing["billed_under_id"] == world.titular.id
    assert billing["billed_under"] == "Dr Claire Martin"
    assert "facturé au nom de Dr Claire Martin" in billing["reasons"]["facturation"]
    row = await db.scalar(
        select(VisitOutcome).where(VisitOutcome.appointment_id == appointment["id"])
    )
    assert row.practitioner_id == world.adjoint.id and row.billed_under_id == world.titular.id
    # Another GP cannot record it.
    _p, other = await new_request(client, world, db)
    theirs = await book(client, world, other, world.titular.id, local(world.today, 14, 30))
    clock.set(local(world.today, 14, 40))
    response = await _outcome(client, world.other_gp, theirs["id"])
    assert response.status_code == 403


async def test_a_patient_who_wants_a_medecin_traitant_enters_orientation(client, world, db, clock):
    _p, request_id = await new_request(client, world, db)
    appointment = await book(client, world, request_id, world.titular.id, local(world.today, 14))
    clock.set(local(world.today, 14, 20))
    response = await _outcome(client, world.gp, appointment["id"], wants_medecin_traitant_help=True)
    assert response.status_code == 200, response.text
    assert response.json()["wants_medecin_traitant_help"] is True
    orientation = importlib.util.find_spec("app.orientation.service")
    if orientation is not None and hasattr(
        importlib.import_module("app.orientation.service"), "enter_patient"
    ):
        case_id = response.json()["orientation_case_id"]
        assert case_id is not None
        models = importlib.import_module("app.orientation.models")
        case = await db.get(models.OrientationCase, case_id)
        assert case.patient_id == appointment["patient_id"]
