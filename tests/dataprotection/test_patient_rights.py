"""A patient's data export and erasure on request, keeping what the law requires
(issue 20, item 6): API for coordination and admin, audited, and the command line."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

from sqlalchemy import func, select

from app.appointments.models import Appointment
from app.audit.models import AuditEvent
from app.cli import main as cli
from app.dataprotection import retention
from app.messaging.models import (
    Call,
    CallOutcome,
    InboundAction,
    InboundSms,
    SmsKind,
    SmsMessage,
    SmsStatus,
)
from app.orientation.models import CaseStatus, OrientationCase
from app.patients.models import Patient
from app.requests.models import CareRequest
from tests.factories import make_patient, token
from tests.gp.helpers import book, local, new_request

PHONE = "+33639980001"
BASE = "/api/data-protection/patients"


async def _contacts(db, patient_id: int, now: dt.datetime) -> None:
    """An SMS each way, a call from the patient's number and an orientation case."""
    db.add(
        SmsMessage(
            patient_id=patient_id,
            kind=SmsKind.booking_confirmation,
            to_number=PHONE,
            body="Bonjour Jeanne Dupont, votre rendez-vous…",
            outbox_key=f"k{patient_id}",
            requested_at=now,
            status=SmsStatus.sent,
        )
    )
    db.add(
        InboundSms(
            message_sid=f"SM{patient_id}",
            from_number=PHONE,
            body="Merci, à demain",
            received_at=now,
            intent="other",
            action=InboundAction.stored,
            patient_id=patient_id,
        )
    )
    db.add(
        Call(
            call_sid=f"CA{patient_id}",
            from_number=PHONE,
            started_at=now,
            outcome=list(CallOutcome)[0],
            matched_patient_ids=[patient_id],
        )
    )
    case = await db.scalar(select(OrientationCase).where(OrientationCase.patient_id == patient_id))
    if case is None:  # the GP's outcome opens one for a patient without médecin traitant
        db.add(
            OrientationCase(
                patient_id=patient_id,
                status=list(CaseStatus)[0],
                entered_at=now,
                status_changed_at=now,
            )
        )
    await db.commit()


async def _cared_for(client, world, db, clock) -> tuple[int, int]:
    """A patient seen today at 14:00 (act recorded by the GP), with SMS, a call, a case."""
    patient, request_id = await new_request(client, world, db, reason="Toux fébrile")
    appointment = await book(client, world, request_id, world.titular.id, local(world.today, 14))
    clock.set(local(world.today, 14, 30))
    seen = await client.post(
        f"/api/me/appointments/{appointment['id']}/outcome",
        json={"status": "fulfilled", "video": True},  # a TCG: an act billed
        headers=world.gp,
    )
    assert seen.status_code == 200, seen.text
    await _contacts(db, patient.id, clock())
    return patient.id, appointment["id"]


async def test_the_export_holds_everything_about_the_patient_and_is_audited(
    client, world, db, clock
):
    patient_id, appointment_id = await _cared_for(client, world, db, clock)
    response = await client.get(f"{BASE}/{patient_id}/export", headers=world.coordinator)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    data = response.json()
    assert data["patient"]["family_name"] == "Dupont" and data["patient"]["phone"] == PHONE
    assert [r["reason"] for r in data["requests"]] == ["Toux fébrile"]
    (appointment,) = data["appointments"]
    assert appointment["id"] == appointment_id and appointment["outcome"]["act_code"]
    bodies = [m["body"] for m in data["sms"]["sent"]]
    assert any(b.startswith("RDV confirmé") for b in bodies) and any("Bonjour" in b for b in bodies)
    assert data["sms"]["received"][0]["body"] == "Merci, à demain"
    assert data["calls"][0]["from_number"] == PHONE
    assert data["orientation"]["case"]["patient_id"] == patient_id
    assert any(e["action"] for e in data["audit"])  # the record's own trail
    exported = await db.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "patient_export", AuditEvent.patient_id == patient_id
        )
    )
    assert exported is not None and exported.username == "coordination"
    # Only coordination and admin; an unknown id answers in French.
    for headers in (world.secretary, world.gp, world.regulator):
        denied = await client.get(f"{BASE}/{patient_id}/export", headers=headers)
        assert denied.status_code == 403
    for missing in (999_999, 2_147_483_647):
        unknown = await client.get(f"{BASE}/{missing}/export", headers=world.coordinator)
        assert unknown.status_code == 404
        assert unknown.json()["message"] == f"Patient n° {missing} introuvable."
    huge = await client.get(f"{BASE}/2147483648/export", headers=world.coordinator)
    assert huge.status_code == 422


async def test_erasure_keeps_the_care_record_and_erases_the_rest(client, world, db, clock):
    patient_id, _ = await _cared_for(client, world, db, clock)
    url = f"{BASE}/{patient_id}/erasure"
    unconfirmed = await client.post(url, json={}, headers=world.coordinator)
    assert unconfirmed.status_code == 409
    assert unconfirmed.json()["code"] == "erasure_not_confirmed"
    # The law forbids deleting the care record (CSP R. 1112-7): refused, nothing changed.
    complete = await client.post(
        url, json={"confirm": True, "complete": True}, headers=world.coordinator
    )
    assert complete.status_code == 409, complete.text
    body = complete.json()
    assert body["code"] == "erasure_forbidden" and "R. 1112-7" in body["message"]
    assert body["keep_until"] == (world.today.replace(year=world.today.year + 20)).isoformat()
    assert await db.scalar(select(Patient.phone).where(Patient.id == patient_id)) == PHONE
    await db.commit()
    assert (
        await client.post(url, json={"confirm": True}, headers=world.secretary)
    ).status_code == 403

    done = await client.post(url, json={"confirm": True}, headers=world.coordinator)
    assert done.status_code == 200, done.text
    report = done.json()
    assert report["deleted"] is False and "R. 1112-7" in report["message"]
    kept = " ".join(k["data"] for k in report["kept"])
    assert "identité" in kept and "demandes de soins (1)" in kept and "audit" in kept
    assert {e["data"] for e in report["erased"]} >= {
        "SMS envoyés : texte et numéro",
        "SMS reçus : texte et numéro",
        "journal d'appels : numéro de l'appelant",
    }
    db.expire_all()
    patient = await db.get(Patient, patient_id)
    assert patient is not None and patient.family_name == "Dupont" and patient.nir is None
    assert (patient.phone, patient.address, patient.latitude) == (None, None, None)
    assert not patient.sms_consent
    assert set((await db.scalars(select(SmsMessage.body))).all()) == {""}
    assert (await db.scalars(select(InboundSms.body))).all() == [""]
    call = await db.scalar(select(Call))
    assert call is not None and call.from_number is None and call.matched_patient_ids == []
    assert await db.scalar(select(func.count()).select_from(OrientationCase)) == 0
    assert await db.scalar(select(func.count()).select_from(CareRequest)) == 1
    assert await db.scalar(select(func.count()).select_from(Appointment)) == 1
    event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "patient_erasure"))
    assert event is not None and event.patient_id == patient_id and not event.detail["deleted"]
    await db.commit()

    # Twenty years after the last care, the record may go too.
    clock.set(clock() + dt.timedelta(days=365 * 20 + 6))
    coordinator = await token(client, "coordination")
    gone = await client.post(url, json={"confirm": True, "complete": True}, headers=coordinator)
    assert gone.status_code == 200, gone.text
    assert gone.json()["deleted"] is True
    db.expire_all()
    assert await db.scalar(select(func.count()).select_from(Patient)) == 0
    assert await db.scalar(select(func.count()).select_from(CareRequest)) == 0
    # The audit trail stays, no longer pointing at the deleted record.
    assert await db.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.entity_id == patient_id)
    )
    after = await client.get(f"{BASE}/{patient_id}/export", headers=coordinator)
    assert after.status_code == 404


async def test_no_erasure_while_an_appointment_is_to_come(client, world, db, clock):
    patient, request_id = await new_request(client, world, db)
    await book(client, world, request_id, world.titular.id, local(world.today, 16))
    clock.set(local(world.today, 9))
    refused = await client.post(
        f"{BASE}/{patient.id}/erasure", json={"confirm": True}, headers=world.coordinator
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "erasure_forbidden"
    assert "rendez-vous à venir" in refused.json()["message"]


async def test_a_patient_without_care_is_deleted_outright(client, world, db, clock):
    patient = await make_patient(db)
    other = await make_patient(db, given_name="Paul", birth_date=dt.date(1975, 1, 2), phone=None)
    await _contacts(db, patient.id, clock())
    done = await client.post(
        f"{BASE}/{patient.id}/erasure", json={"confirm": True}, headers=world.coordinator
    )
    assert done.status_code == 200, done.text
    assert done.json()["deleted"] is True and done.json()["kept"][0]["data"].startswith("journal")
    await db.commit()
    assert (await db.scalars(select(Patient.id))).all() == [other.id]
    assert await db.scalar(select(func.count()).select_from(SmsMessage)) == 0
    assert await db.scalar(select(func.count()).select_from(InboundSms)) == 0
    assert (await db.scalar(select(Call))).from_number is None


async def test_the_command_line_exports_and_erases(world, db, database_url, tmp_path, capsys):
    patient = await make_patient(db)
    await db.commit()
    out = tmp_path / "patient.json"
    run = ["--database-url", database_url, "patient"]
    code = await asyncio.to_thread(cli, [*run, "export", str(patient.id), "-o", str(out)])
    assert code == 0
    assert json.loads(out.read_text())["patient"]["given_name"] == "Jeanne"
    assert await asyncio.to_thread(cli, [*run, "export", "424242"]) == 1
    assert "Patient n° 424242 introuvable." in capsys.readouterr().err
    assert await asyncio.to_thread(cli, [*run, "erase", str(patient.id)]) == 2
    assert "--yes" in capsys.readouterr().err
    assert await asyncio.to_thread(cli, [*run, "erase", str(patient.id), "--yes"]) == 0
    assert json.loads(capsys.readouterr().out)["deleted"] is True
    assert await db.scalar(select(func.count()).select_from(Patient)) == 0
    actions = (await db.scalars(select(AuditEvent.action).order_by(AuditEvent.id))).all()
    assert actions[-2:] == ["patient_export", "patient_erasure"]
    await db.commit()


def test_the_care_record_is_kept_20_years_and_at_least_until_28():
    """CSP art. R. 1112-7: 20 years after the last care, prolonged to the 28th birthday."""
    kept_until = retention.care_record_kept_until
    assert kept_until(dt.date(2026, 12, 7), dt.date(1980, 5, 17)) == dt.date(2046, 12, 7)
    assert kept_until(dt.date(2026, 12, 7), dt.date(2020, 3, 1)) == dt.date(2048, 3, 1)
    assert kept_until(dt.date(2028, 2, 29), dt.date(1960, 1, 1)) == dt.date(2048, 2, 29)


async def test_the_retention_job_drops_idle_counters_but_not_a_running_lock(app, db, clock):
    """Login and webhook counters (shared_limits) idle for a day go; a lock still on stays."""
    from app.core.limits import SharedLimit

    now = clock()
    old = now - dt.timedelta(days=2)
    db.add(SharedLimit(key="webhook:1.2.3.4", count=3, window_start=old, last_at=old))
    db.add(
        SharedLimit(
            key="login:account:x",
            count=10,
            window_start=old,
            last_at=old,
            locked_until=now + dt.timedelta(minutes=5),
        )
    )
    db.add(SharedLimit(key="login:address:5.6.7.8", count=1, window_start=now, last_at=now))
    await db.commit()
    async with app.state.sessionmaker() as session, session.begin():
        report = await retention.run(
            session=session, settings=app.state.settings, now=now, dry_run=False
        )
    assert report.limits_deleted == 1
    db.expire_all()
    kept = sorted((await db.scalars(select(SharedLimit.key))).all())
    assert kept == ["login:account:x", "login:address:5.6.7.8"]
    await db.commit()
