"""Replies by SMS (ANNULER, STOP, anything else) and the signed cancellation link."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.appointments import service as appointments_service
from app.appointments.models import Appointment
from app.audit.models import AuditEvent
from app.messaging.models import InboundSms, SmsKind, SmsOptOut
from app.patients.models import Patient
from telephony import cancel_url
from tests.factories import make_patient
from tests.telephony.signing import incoming_sms_params

from .conftest import (
    PATIENT_PHONE,
    PUBLIC,
    book,
    post_webhook,
    signed,
    sms_rows,
    tomorrow_at,
    worker,
)


async def _free(db, world, start) -> bool:
    slots = await appointments_service.free_slots(
        session=db,
        start=start,
        end=start + dt.timedelta(minutes=15),
        practitioner_ids=[world.titular.id],
    )
    await db.commit()
    return any(s == start for _, s, _ in slots)


async def _status(db, appointment_id) -> str:
    status = await db.scalar(select(Appointment.status).where(Appointment.id == appointment_id))
    await db.commit()
    return str(status)


async def _booked(app, client, world, db, fake, start=None) -> tuple[Patient, dict]:
    patient = await make_patient(db)
    appointment = await book(
        client,
        world.secretary,
        patient_id=patient.id,
        practitioner_id=world.titular.id,
        start=start or tomorrow_at(world, 14),
    )
    await worker(app).drain()
    return patient, appointment


async def _sms(client, fake, body, from_=PATIENT_PHONE, **extra):
    webhook = signed(fake, "/telephony/sms", incoming_sms_params(from_=from_, body=body, **extra))
    return await post_webhook(client, webhook)


@pytest.mark.parametrize("text", ["ANNULER", " annulé ! "])
async def test_annuler_cancels_the_next_appointment_frees_the_slot_and_confirms(
    app, client, world, db, fake_twilio, text
):
    start = tomorrow_at(world, 14)
    _, appointment = await _booked(app, client, world, db, fake_twilio, start)
    assert not await _free(db, world, start)
    response = await _sms(client, fake_twilio, text)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert "<Response" in response.text
    assert await _status(db, appointment["id"]) == "cancelled"
    assert await _free(db, world, start)
    await worker(app).drain()
    confirmation = fake_twilio.messages[-1]
    assert confirmation.to == PATIENT_PHONE
    assert confirmation.body.startswith("Votre RDV du mardi 08/12 à 14h est bien annulé.")
    kinds = [r.kind for r in await sms_rows(db)]
    assert kinds == [SmsKind.booking_confirmation, SmsKind.cancel_confirmation]  # no "notice"
    inbound = await db.scalar(select(InboundSms))
    assert (inbound.action, inbound.appointment_id, inbound.handled) == (
        "cancelled",
        appointment["id"],
        True,
    )
    await db.commit()


async def test_the_same_message_twice_is_acted_on_once(app, client, world, db, fake_twilio):
    await _booked(app, client, world, db, fake_twilio, tomorrow_at(world, 14))
    second = await book(
        client,
        world.secretary,
        patient_id=(await db.scalar(select(Patient.id))),
        practitioner_id=world.titular.id,
        start=tomorrow_at(world, 16),
        confirm_same_day=True,  # a second appointment that day, confirmed by the secretary
    )
    await db.commit()
    params = incoming_sms_params(from_=PATIENT_PHONE, body="ANNULER", message_sid="SM" + "a" * 32)
    for _ in range(2):  # Twilio retries a webhook it thinks failed
        response = await post_webhook(client, signed(fake_twilio, "/telephony/sms", params))
        assert response.status_code == 200
    assert await _status(db, second["id"]) == "booked"  # only the next one was cancelled
    assert len((await db.scalars(select(InboundSms))).all()) == 1
    await db.commit()


async def test_annuler_without_appointment_answers_and_is_shown(
    app, client, world, db, fake_twilio
):
    await make_patient(db)
    await _sms(client, fake_twilio, "annuler")
    await worker(app).drain()
    assert fake_twilio.messages[-1].body.startswith(
        "Nous n'avons trouvé aucun RDV à venir à annuler pour ce numéro."
    )
    inbound = (await client.get("/api/sms/inbound", headers=world.secretary)).json()
    assert [(m["action"], m["handled"]) for m in inbound] == [("no_appointment", False)]


async def test_unknown_number_is_shown_and_nothing_is_cancelled(
    app, client, world, db, fake_twilio
):
    _, appointment = await _booked(app, client, world, db, fake_twilio)
    sent_before = len(fake_twilio.messages)
    response = await _sms(client, fake_twilio, "ANNULER", from_="+33611223344")
    assert response.status_code == 200
    assert await _status(db, appointment["id"]) == "booked"
    await worker(app).drain()
    assert len(fake_twilio.messages) == sent_before
    listed = (await client.get("/api/sms/inbound", headers=world.secretary)).json()
    assert [(m["from_number"], m["body"], m["action"], m["patient_id"]) for m in listed] == [
        ("+33611223344", "ANNULER", "unknown_number", None)
    ]


async def test_other_text_is_stored_for_the_secretariat(app, client, world, db, fake_twilio):
    patient, appointment = await _booked(app, client, world, db, fake_twilio)
    await _sms(client, fake_twilio, "Je serai en retard de 10 minutes, merci")
    assert await _status(db, appointment["id"]) == "booked"
    listed = (await client.get("/api/sms/inbound", headers=world.secretary)).json()
    assert listed[0]["action"] == "stored" and listed[0]["patient_id"] == patient.id
    assert listed[0]["patient_name"] == "DUPONT Jeanne"  # NOM Prénom, the one name order
    response = await client.post(
        f"/api/sms/inbound/{listed[0]['id']}/handled", headers=world.secretary
    )
    assert response.status_code == 204
    listed = (await client.get("/api/sms/inbound", headers=world.secretary)).json()
    assert listed[0]["handled"] is True
    assert (await client.get("/api/sms/inbound", headers=world.gp)).status_code == 403


async def test_stop_opts_out_and_no_more_sms_leave(app, client, world, db, fake_twilio, clock):
    patient, appointment = await _booked(app, client, world, db, fake_twilio)
    assert len(fake_twilio.messages) == 1
    # A change queued before the STOP arrives, another after: neither leaves.
    await client.post(
        f"/api/appointments/{appointment['id']}/reschedule",
        json={"start_at": tomorrow_at(world, 15).isoformat()},
        headers=world.secretary,
    )
    response = await _sms(client, fake_twilio, "STOP")
    assert response.status_code == 200
    await client.post(
        f"/api/appointments/{appointment['id']}/reschedule",
        json={"start_at": tomorrow_at(world, 16).isoformat()},
        headers=world.secretary,
    )
    await worker(app).drain()
    from app.messaging import outbound

    clock.set(tomorrow_at(world, 14))
    assert await outbound.queue_due_reminders(app) == 0
    await worker(app).drain()
    assert len(fake_twilio.messages) == 1
    consent = await db.scalar(select(Patient.sms_consent).where(Patient.id == patient.id))
    assert consent is False
    assert (await db.scalar(select(SmsOptOut))).phone == PATIENT_PHONE
    trail = await db.scalar(select(AuditEvent).where(AuditEvent.action == "update"))
    assert trail.patient_id == patient.id and trail.detail["sms_consent"] is False
    await db.commit()
    assert await _status(db, appointment["id"]) == "booked"  # STOP cancels nothing


@pytest.mark.parametrize("telephony_overrides", [{"sms_stop_reply": True}])
async def test_stop_then_start_with_our_own_answers(app, client, world, db, fake_twilio):
    patient = await make_patient(db)
    await _sms(client, fake_twilio, "Stop")
    await worker(app).drain()
    assert fake_twilio.messages[-1].body.startswith("Vous ne recevrez plus nos SMS.")
    await _sms(client, fake_twilio, "START")
    await worker(app).drain()
    assert fake_twilio.messages[-1].body.startswith("Nos SMS sont réactivés.")
    consent = await db.scalar(select(Patient.sms_consent).where(Patient.id == patient.id))
    assert consent is True
    await db.commit()


# --- the signed link -----------------------------------------------------------------------


def _link_path(body: str) -> str:
    url = body.split("ouvrez ")[1].split()[0]
    assert url.startswith(PUBLIC + "/a/")
    return url[len(PUBLIC) :]


async def test_the_link_cancels_once(app, client, world, db, fake_twilio):
    start = tomorrow_at(world, 14)
    _, appointment = await _booked(app, client, world, db, fake_twilio, start)
    path = _link_path(fake_twilio.messages[0].body)
    page = await client.get(path)
    assert page.status_code == 200
    assert "Confirmer l'annulation" in page.text and "mardi 8 décembre à 14:00" in page.text
    assert "Fièvre" not in page.text and "Dupont" not in page.text  # no health data
    assert page.headers["cache-control"] == "no-store"
    assert await _status(db, appointment["id"]) == "booked"  # looking is not cancelling

    done = await client.post(path)
    assert done.status_code == 200 and "est annulé" in done.text
    assert await _status(db, appointment["id"]) == "cancelled"
    assert await _free(db, world, start)
    await worker(app).drain()
    assert fake_twilio.messages[-1].body.startswith(
        "Votre RDV du mardi 08/12 à 14h est bien annulé."
    )
    sent = len(fake_twilio.messages)

    again = await client.post(path)
    assert again.status_code == 200 and "déjà annulé" in again.text
    await worker(app).drain()
    assert len(fake_twilio.messages) == sent


async def test_a_used_link_cannot_cancel_a_rebooked_appointment(
    app, client, world, db, fake_twilio
):
    # Link used once; the same appointment row can never be re-booked, but a second
    # link (e.g. from a reminder) of a cancelled appointment does nothing either.
    _, appointment = await _booked(app, client, world, db, fake_twilio)
    signer = app.state.cancel_links
    end = dt.datetime.fromisoformat(appointment["end_at"])
    other = signer.issue(appointment["id"], expires_at=end)
    path = _link_path(fake_twilio.messages[0].body)
    assert (await client.post(path)).status_code == 200
    response = await client.post("/a/" + other)
    assert "déjà annulé" in response.text


async def test_forged_or_expired_link_does_nothing(app, client, world, db, fake_twilio, clock):
    _, appointment = await _booked(app, client, world, db, fake_twilio)
    path = _link_path(fake_twilio.messages[0].body)
    token = path.rsplit("/", 1)[1]
    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    for method in ("GET", "POST"):
        response = await client.request(method, "/a/" + forged)
        assert response.status_code == 404
        assert "Ce lien d'annulation n'est pas valide" in response.text
    # Someone else's signature on our format: forged too.
    from telephony import CancelLinkSigner

    stranger = CancelLinkSigner("another-secret-of-enough-length").issue(
        appointment["id"], expires_at=dt.datetime.fromisoformat(appointment["end_at"])
    )
    assert (await client.post("/a/" + stranger)).status_code == 404
    clock.set(dt.datetime.fromisoformat(appointment["end_at"]) + dt.timedelta(minutes=1))
    response = await client.post(path)
    assert response.status_code == 410 and "a expiré" in response.text
    assert await _status(db, appointment["id"]) == "booked"


@pytest.mark.parametrize("mode", ["alphanumeric"])
async def test_alphanumeric_sender_prints_only_the_link(app, client, world, db, fake_twilio, mode):
    app.state.telephony_settings = app.state.telephony_settings.model_copy(
        update={"sms_reply_mode": mode}
    )
    await _booked(app, client, world, db, fake_twilio)
    body = fake_twilio.messages[0].body
    assert "ANNULER" not in body
    assert "Pour annuler: " + PUBLIC + "/a/" in body
    assert cancel_url(PUBLIC, "x") == PUBLIC + "/a/x"
