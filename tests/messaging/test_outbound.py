"""SMS to patients (booking, change, cancellation, window, reminders) via the fake Twilio."""

from __future__ import annotations

import datetime as dt

from app.appointments import events
from app.appointments.models import Appointment
from app.core.timeutil import PARIS, at
from app.messaging import outbound
from app.messaging.models import SmsKind, SmsStatus
from tests.factories import make_patient

from .conftest import PATIENT_PHONE, PUBLIC, book, sms_rows, tomorrow_at, worker


async def test_booking_sends_a_confirmation_to_the_patient(app, client, world, db, fake_twilio):
    patient = await make_patient(db)
    appointment = await book(
        client,
        world.secretary,
        patient_id=patient.id,
        practitioner_id=world.titular.id,
        start=tomorrow_at(world, 14, 30),
    )
    assert fake_twilio.messages == []  # queued in the booking transaction, not sent inline
    assert await worker(app).drain() == 1
    [sent] = fake_twilio.messages
    assert sent.to == PATIENT_PHONE
    assert sent.from_ == "+33700000001"
    assert sent.body.startswith(
        "RDV confirmé: téléconsultation avec Dr Claire Martin mardi 08/12 à 14h30."
    )
    assert "Le médecin vous appellera à ce numéro." in sent.body
    assert "répondez ANNULER ou ouvrez " + PUBLIC + "/a/" in sent.body
    assert sent.body.endswith("\nCPTS de la Bièvre")
    assert sent.idempotency_token == f"sms:booked:{appointment['id']}"
    assert sent.status_callback.startswith(PUBLIC + "/telephony/sms/status?sms=")
    [row] = await sms_rows(db)
    assert (row.kind, row.status, row.sid) == (SmsKind.booking_confirmation, "queued", sent.sid)
    assert row.appointment_id == appointment["id"] and row.patient_id == patient.id


async def test_no_sms_without_consent_or_phone(app, client, world, db, fake_twilio):
    refused = await make_patient(db, sms_consent=False)
    no_phone = await make_patient(db, given_name="Luc", phone=None)
    for i, patient in enumerate((refused, no_phone)):
        await book(
            client,
            world.secretary,
            patient_id=patient.id,
            practitioner_id=world.titular.id,
            start=tomorrow_at(world, 15, 15 * i),
        )
    assert await worker(app).drain() == 0
    assert fake_twilio.messages == [] and await sms_rows(db) == []


async def test_change_and_platform_cancellation_notices(app, client, world, db, fake_twilio):
    patient = await make_patient(db)
    appointment = await book(
        client,
        world.secretary,
        patient_id=patient.id,
        practitioner_id=world.titular.id,
        start=tomorrow_at(world, 14),
    )
    send = worker(app)
    await send.drain()
    response = await client.post(
        f"/api/appointments/{appointment['id']}/reschedule",
        json={"start_at": tomorrow_at(world, 16).isoformat()},
        headers=world.secretary,
    )
    assert response.status_code == 200, response.text
    await send.drain()
    response = await client.post(
        f"/api/appointments/{appointment['id']}/cancel",
        json={"reason": "médecin indisponible"},
        headers=world.secretary,
    )
    assert response.status_code == 200, response.text
    await send.drain()
    bodies = [m.body for m in fake_twilio.messages]
    assert len(bodies) == 3
    assert bodies[0].startswith("RDV confirmé")
    assert bodies[1].startswith("Votre RDV du mardi 08/12 à 14h est modifié: ")
    assert "mardi 08/12 à 16h." in bodies[1]
    assert bodies[2].startswith("Votre RDV du mardi 08/12 à 16h est annulé.")
    assert "appelez le 01 23 45 67 89" in bodies[2]


async def test_a_confirmation_still_queued_is_dropped_once_cancelled(
    app, client, world, db, fake_twilio
):
    patient = await make_patient(db)
    appointment = await book(
        client,
        world.secretary,
        patient_id=patient.id,
        practitioner_id=world.titular.id,
        start=tomorrow_at(world, 14),
    )
    await client.post(
        f"/api/appointments/{appointment['id']}/cancel",
        json={"reason": "erreur de saisie"},
        headers=world.secretary,
    )
    await worker(app).drain()
    assert [m.body.split(".")[0] for m in fake_twilio.messages] == [
        "Votre RDV du mardi 08/12 à 14h est annulé"
    ]
    rows = await sms_rows(db)
    assert [(r.kind, r.status) for r in rows] == [
        (SmsKind.booking_confirmation, SmsStatus.skipped),
        (SmsKind.cancellation_notice, SmsStatus.queued),
    ]


async def test_narrowed_window_of_a_home_visit_is_sent(app, client, world, db, fake_twilio):
    patient = await make_patient(db)
    start = at(world.today, dt.time(10), PARIS)
    appointment = await book(
        client,
        world.secretary,
        patient_id=patient.id,
        practitioner_id=world.titular.id,
        start=start,
        kind="home_visit",
    )
    # What the rounds engine does once the morning round is optimised.
    async with app.state.sessionmaker() as session, session.begin():
        row = await session.get(Appointment, appointment["id"])
        row.start_at = at(world.today, dt.time(10, 20), PARIS)
        row.end_at = at(world.today, dt.time(10, 50), PARIS)
        await events.emit(
            session,
            app.state.appointment_listeners,
            events.AppointmentEvent(events.EventKind.window_narrowed, row, None, app.state.clock()),
        )
    await worker(app).drain()
    bodies = [m.body for m in fake_twilio.messages]
    assert bodies[0].startswith(
        "RDV confirmé: visite à domicile de Dr Claire Martin lundi 07/12 entre 10h et 11h."
    )
    assert bodies[1] == (
        "Visite à domicile de Dr Claire Martin: arrivée prévue lundi 07/12 entre 10h20 et 10h50."
        " Merci de rester joignable.\nCPTS de la Bièvre"
    )


async def test_reminders_leave_at_the_configured_times(app, client, world, db, fake_twilio, clock):
    patient = await make_patient(db)
    await book(
        client,
        world.secretary,
        patient_id=patient.id,
        practitioner_id=world.titular.id,
        start=tomorrow_at(world, 14),
    )
    send = worker(app)
    await send.drain()
    assert len(fake_twilio.messages) == 1  # the confirmation

    clock.set(at(world.today, dt.time(17, 59), PARIS))
    assert await outbound.queue_due_reminders(app) == 0
    clock.set(at(world.today, dt.time(18, 0), PARIS))  # REMINDER_EVENING_TIME
    assert await outbound.queue_due_reminders(app) == 1
    assert await outbound.queue_due_reminders(app) == 0  # once
    await send.drain()
    assert fake_twilio.messages[-1].body.startswith(
        "Rappel: téléconsultation avec Dr Claire Martin mardi 08/12 à 14h."
    )
    assert fake_twilio.messages[-1].to == PATIENT_PHONE

    clock.set(tomorrow_at(world, 11, 59))
    assert await outbound.queue_due_reminders(app) == 0
    clock.set(tomorrow_at(world, 12, 0))  # REMINDER_HOURS_BEFORE = 2
    assert await outbound.queue_due_reminders(app) == 1
    await send.drain()
    assert len(fake_twilio.messages) == 3
    assert fake_twilio.counts_by_idempotency_token().most_common(1)[0][1] == 1


async def test_the_reminder_job_is_registered_for_the_worker(app):
    names = [name for name, _, _ in app.state.periodic_jobs]
    assert "messaging.reminders" in names


async def test_a_reminder_found_late_is_not_sent(app, client, world, db, fake_twilio, clock):
    patient = await make_patient(db)
    await book(
        client,
        world.secretary,
        patient_id=patient.id,
        practitioner_id=world.titular.id,
        start=tomorrow_at(world, 14),
    )
    clock.set(at(world.today, dt.time(23), PARIS))  # the worker was down all evening
    assert await outbound.queue_due_reminders(app) == 0
