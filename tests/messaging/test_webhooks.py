"""Twilio's webhooks: signature checked first (403, nothing done), then the public line."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.appointments.models import Appointment
from app.core.timeutil import PARIS, at
from app.messaging.models import Call, InboundSms, SmsMessage
from tests.factories import make_patient
from tests.telephony.signing import incoming_call_params, incoming_sms_params, signed_webhook

from .conftest import PATIENT_PHONE, PUBLIC, book, post_webhook, signed, tomorrow_at, worker

PATHS = [
    "/telephony/voice",
    "/telephony/voice/menu",
    "/telephony/voice/status",
    "/telephony/sms",
    "/telephony/sms/status",
]


async def _counts(db) -> tuple[int, int, int]:
    calls = await db.scalar(select(func.count(Call.id)))
    inbound = await db.scalar(select(func.count(InboundSms.id)))
    cancelled = await db.scalar(
        select(func.count(Appointment.id)).where(Appointment.status == "cancelled")
    )
    await db.commit()
    return calls, inbound, cancelled


@pytest.mark.parametrize("path", PATHS)
async def test_unsigned_or_badly_signed_webhooks_are_refused(
    app, client, world, db, fake_twilio, path
):
    patient = await make_patient(db)
    await book(
        client,
        world.secretary,
        patient_id=patient.id,
        practitioner_id=world.titular.id,
        start=tomorrow_at(world, 14),
    )
    params = {
        **incoming_call_params(from_=PATIENT_PHONE, digits="1"),
        **incoming_sms_params(from_=PATIENT_PHONE, body="ANNULER"),
    }
    good = signed(fake_twilio, path, params)
    attempts = [
        ({k: v for k, v in good.headers.items() if k != "X-Twilio-Signature"}, params),
        ({**good.headers, "X-Twilio-Signature": "AAAA" + good.signature[4:]}, params),
        # Signed with another token, or for another URL, or with other parameters.
        (signed_webhook("not-our-token", PUBLIC + path, params).headers, params),
        (
            signed_webhook(fake_twilio.auth_token, "https://evil.example" + path, params).headers,
            params,
        ),
        (good.headers, {**params, "Body": "STOP"}),
    ]
    for headers, form in attempts:
        response = await client.post(path, data=form, headers=headers)
        assert response.status_code == 403, response.text
    assert await _counts(db) == (0, 0, 0)
    assert await db.scalar(select(Appointment.status)) == "booked"
    await db.commit()


async def test_a_genuine_webhook_is_accepted_behind_the_public_url(app, client, fake_twilio):
    response = await post_webhook(
        client, signed(fake_twilio, "/telephony/voice", incoming_call_params(from_=PATIENT_PHONE))
    )
    assert response.status_code == 200


def _call(fake, clock_time, *, from_=PATIENT_PHONE, call_sid=None):
    return signed(fake, "/telephony/voice", incoming_call_params(from_=from_, call_sid=call_sid))


async def test_call_in_hours_welcomes_queues_and_is_listed(app, client, world, db, fake_twilio):
    patient = await make_patient(db)
    response = await post_webhook(client, _call(fake_twilio, None, call_sid="CA" + "1" * 32))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    xml = response.text
    assert 'language="fr-FR"' in xml and "composez le 15" in xml
    assert "<Enqueue" in xml and ">secretariat</Enqueue>" in xml
    assert f'action="{PUBLIC}/telephony/voice/menu"' in xml
    # Twilio asks again with the same CallSid: still one call in the list.
    await post_webhook(client, _call(fake_twilio, None, call_sid="CA" + "1" * 32))
    listed = (await client.get("/api/calls", headers=world.secretary)).json()
    assert len(listed) == 1
    call = listed[0]
    assert (call["from_number"], call["outcome"], call["patient_id"], call["patient_name"]) == (
        PATIENT_PHONE,
        "queued",
        patient.id,
        "DUPONT Jeanne",
    )
    status = signed(
        fake_twilio,
        "/telephony/voice/status",
        incoming_call_params(
            from_=PATIENT_PHONE,
            call_sid="CA" + "1" * 32,
            call_status="completed",
            call_duration=95,
        ),
    )
    response = await post_webhook(client, status)
    assert response.status_code == 204
    call = (await client.get("/api/calls", headers=world.secretary)).json()[0]
    assert (call["status"], call["status_label"], call["duration_seconds"]) == (
        "completed",
        "terminé",
        95,
    )
    assert (await client.get("/api/calls", headers=world.gp)).status_code == 403


async def test_call_out_of_hours_gives_15_116117_and_hours(
    app, client, world, db, fake_twilio, clock
):
    clock.set(at(world.today, dt.time(21, 30), PARIS))
    response = await post_webhook(client, _call(fake_twilio, None, from_="+33611223344"))
    xml = response.text
    assert "Le secrétariat est actuellement fermé." in xml
    assert "composez le 15" in xml and "116 117" in xml
    assert "du lundi au vendredi de 8 heures à 20 heures" in xml
    assert "Il rouvrira demain à 8 heures." in xml
    assert "<Enqueue" not in xml and "<Hangup" in xml
    listed = (await client.get("/api/calls", headers=world.secretary)).json()
    assert [(c["outcome"], c["patient_id"], c["matched_patients"]) for c in listed] == [
        ("closed", None, [])
    ]


async def test_call_on_a_public_holiday_is_closed(app, client, world, db, fake_twilio, clock):
    christmas = dt.date(2026, 12, 25)  # a Friday
    clock.set(at(christmas, dt.time(10), PARIS))
    response = await post_webhook(client, _call(fake_twilio, None))
    xml = response.text
    assert "Aujourd'hui est un jour férié, le secrétariat est fermé." in xml
    assert "116 117" in xml and "<Enqueue" not in xml
    listed = (
        await client.get("/api/calls", params={"date": "2026-12-25"}, headers=world.secretary)
    ).json()
    assert [c["outcome"] for c in listed] == ["holiday"]


async def test_callback_request_lands_in_the_list(app, client, world, db, fake_twilio):
    await make_patient(db)
    sid = "CA" + "2" * 32
    await post_webhook(client, _call(fake_twilio, None, call_sid=sid))
    menu = signed(
        fake_twilio,
        "/telephony/voice/menu",
        incoming_call_params(from_=PATIENT_PHONE, call_sid=sid, digits="1"),
    )
    response = await post_webhook(client, menu)
    assert "Votre demande de rappel est enregistrée." in response.text
    [call] = (await client.get("/api/calls", headers=world.secretary)).json()
    assert call["callback_requested"] is True and call["handled"] is False
    response = await client.post(f"/api/calls/{call['id']}/handled", headers=world.secretary)
    assert response.status_code == 200 and response.json()["handled"] is True


async def test_delivery_callbacks_update_the_sms_and_failures_are_listed(
    app, client, world, db, fake_twilio
):
    patient = await make_patient(db)
    await book(
        client,
        world.secretary,
        patient_id=patient.id,
        practitioner_id=world.titular.id,
        start=tomorrow_at(world, 14),
    )
    await worker(app).drain()
    [message] = fake_twilio.messages
    for status in ("sent", "undelivered", "sent"):  # late "sent" never hides the failure
        response = await post_webhook(
            client, fake_twilio.status_callback(message.sid, status, error_code=30003)
        )
        assert response.status_code == 204
    row = await db.scalar(select(SmsMessage).execution_options(populate_existing=True))
    assert (row.status, row.error_code) == ("undelivered", 30003)
    await db.commit()
    failures = (await client.get("/api/sms/failures", headers=world.secretary)).json()
    assert [(f["to_number"], f["error"], f["patient_name"]) for f in failures] == [
        (PATIENT_PHONE, "téléphone injoignable", "DUPONT Jeanne")
    ]
    history = await client.get(f"/api/patients/{patient.id}/sms", headers=world.secretary)
    assert history.status_code == 200
    assert [(h["kind"], h["status"]) for h in history.json()] == [
        ("booking_confirmation", "undelivered")
    ]
    from app.audit.models import AuditEvent

    assert (
        await db.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.action == "read_sms", AuditEvent.patient_id == patient.id
            )
        )
        == 1
    )
    await db.commit()
    response = await client.post(f"/api/sms/{failures[0]['id']}/handled", headers=world.secretary)
    assert response.status_code == 204
    assert (await client.get("/api/sms/failures", headers=world.secretary)).json() == []
