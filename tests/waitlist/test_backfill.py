"""Freed slots offered back by SMS: OUI books, silence moves on, a race books once,
a passing deadline makes the request *non pourvue* (SQLite and PostgreSQL, fake Twilio)."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select

from app.appointments.models import Appointment, AppointmentStatus
from app.audit.models import AuditEvent
from app.core.timeutil import PARIS
from app.indicators import service as indicators_service
from app.waitlist.wiring import sweep_job
from tests.factories import make_patient

from .conftest import (
    PATIENT_PHONE,
    CareRequest,
    FreedSlot,
    SlotOffer,
    WaitlistEntry,
    book,
    code_in,
    fresh,
    sms_from,
    texts_to,
    tomorrow_at,
    waiting_patient,
    worker,
)

A, B, C = "+33639980011", "+33639980012", "+33639980013"


async def _cancelled_by_sms(app, client, db, world, fake_twilio):
    """A booked patient (tomorrow 14:00, Dr Martin) and three waiting ones; ANNULER."""
    patient = await make_patient(db)
    booked = await book(
        client,
        world.secretary,
        patient_id=patient.id,
        practitioner_id=world.titular.id,
        start=tomorrow_at(world, 14),
    )
    a = await waiting_patient(client, db, world, A, family="Alpha")
    b = await waiting_patient(client, db, world, B, family="Bravo")
    c = await waiting_patient(client, db, world, C, family="Charlie")
    await sms_from(client, fake_twilio, PATIENT_PHONE, "ANNULER")
    await worker(app).drain()
    return booked, a, b, c


async def _appointments_at(db, start):
    rows = await fresh(db, Appointment, start_at=start)
    return [r for r in rows if r.status == AppointmentStatus.booked]


async def test_sms_cancellation_offers_the_slot_and_oui_books_it_the_next_get_nothing(
    app, client, db, world, fake_twilio
):
    start = tomorrow_at(world, 14)
    _, a, b, c = await _cancelled_by_sms(app, client, db, world, fake_twilio)
    offer = texts_to(fake_twilio, A)
    assert len(offer) == 1 and offer[0].startswith("Un créneau s'est libéré: téléconsultation")
    assert "mardi 08/12 à 14h" in offer[0] and "avant 8h45" in offer[0]  # hold of 15 min
    assert texts_to(fake_twilio, B) == texts_to(fake_twilio, C) == []
    [slot] = await fresh(db, FreedSlot)
    assert (slot.source, slot.status) == ("cancel_sms", "open")

    await sms_from(client, fake_twilio, A, f"Oui {code_in(offer[0])} merci !")
    await worker(app).drain()
    [appointment] = await _appointments_at(db, start)
    assert appointment.request_id == a["entry"]["request_id"]
    assert texts_to(fake_twilio, A)[-1].startswith("RDV confirmé: téléconsultation")
    assert texts_to(fake_twilio, B) == texts_to(fake_twilio, C) == []
    [slot] = await fresh(db, FreedSlot)
    assert (slot.status, slot.refilled_appointment_id) == ("refilled", appointment.id)
    entries = {e.request_id: e.status for e in await fresh(db, WaitlistEntry)}
    assert entries[a["entry"]["request_id"]] == "booked"
    assert entries[b["entry"]["request_id"]] == "waiting"
    [offer_row] = await fresh(db, SlotOffer)
    assert (offer_row.status, offer_row.rank) == ("accepted", 1)
    actions = {e.action for e in await fresh(db, AuditEvent) if e.entity_type == "waitlist_slot"}
    assert {"slot_freed", "waitlist_offer", "waitlist_offer_accepted"} <= actions
    # Nothing more happens for the others when the sweep runs.
    await sweep_job(app)
    await worker(app).drain()
    assert texts_to(fake_twilio, B) == texts_to(fake_twilio, C) == []


async def test_silence_moves_the_offer_on_after_the_hold_and_non_passes_it(
    app, client, db, world, fake_twilio, clock
):
    start = tomorrow_at(world, 14)
    await _cancelled_by_sms(app, client, db, world, fake_twilio)
    clock.advance(dt.timedelta(minutes=14))
    await sweep_job(app)
    await worker(app).drain()
    assert texts_to(fake_twilio, B) == []  # still A's
    clock.advance(dt.timedelta(minutes=2))
    await sweep_job(app)
    await worker(app).drain()
    [to_b] = texts_to(fake_twilio, B)
    # B says no: C is asked.
    await sms_from(client, fake_twilio, B, f"non {code_in(to_b)}")
    await worker(app).drain()
    [to_c] = texts_to(fake_twilio, C)
    await sms_from(client, fake_twilio, C, f"OUI{code_in(to_c)}")
    await worker(app).drain()
    [appointment] = await _appointments_at(db, start)
    statuses = [o.status for o in await fresh(db, SlotOffer)]
    assert statuses == ["expired", "declined", "accepted"]
    requests = {r.id: r for r in await fresh(db, CareRequest)}
    assert requests[appointment.request_id].status == "scheduled"


async def test_two_oui_racing_for_one_slot_book_it_once_the_other_is_told(
    app, client, db, world, fake_twilio, clock
):
    """A's offer expired and went to B; A's late OUI and B's OUI arrive together."""
    start = tomorrow_at(world, 14)
    await _cancelled_by_sms(app, client, db, world, fake_twilio)
    clock.advance(dt.timedelta(minutes=16))
    await sweep_job(app)
    await worker(app).drain()
    to_a, to_b = texts_to(fake_twilio, A)[0], texts_to(fake_twilio, B)[0]
    await asyncio.gather(
        sms_from(client, fake_twilio, A, f"OUI {code_in(to_a)}"),
        sms_from(client, fake_twilio, B, f"oui {code_in(to_b)}"),
    )
    await worker(app).drain()
    booked = await _appointments_at(db, start)
    assert len(booked) == 1
    offers = {o.patient_id: o.status for o in await fresh(db, SlotOffer)}
    assert sorted(offers.values()) == ["accepted", "taken"]
    loser = A if texts_to(fake_twilio, A)[-1].startswith("Désolé") else B
    winner = B if loser == A else A
    assert texts_to(fake_twilio, loser)[-1].startswith(
        "Désolé, ce créneau vient d'être pris par un autre patient."
    )
    assert texts_to(fake_twilio, winner)[-1].startswith("RDV confirmé")


async def test_wrong_code_books_nothing_and_answers(app, client, db, world, fake_twilio):
    start = tomorrow_at(world, 14)
    await _cancelled_by_sms(app, client, db, world, fake_twilio)
    code = code_in(texts_to(fake_twilio, A)[0])
    wrong = "1000" if code != "1000" else "1001"
    await sms_from(client, fake_twilio, A, f"OUI {wrong}")
    await worker(app).drain()
    assert await _appointments_at(db, start) == []
    assert texts_to(fake_twilio, A)[-1].startswith(
        "Nous n'avons pas retrouvé de proposition en cours avec ce code."
    )


async def test_a_passing_deadline_makes_the_request_non_pourvue_and_counted(
    app, client, db, world, fake_twilio, clock
):
    waiting = await waiting_patient(client, db, world, A)
    request_id = waiting["entry"]["request_id"]
    deadline = dt.datetime.fromisoformat(waiting["entry"]["deadline"])
    clock.set(deadline + dt.timedelta(minutes=1))
    await sweep_job(app)
    [care_request] = await fresh(db, CareRequest, id=request_id)
    assert care_request.status == "unfilled"
    assert "non pourvue" in (care_request.status_note or "")
    [entry] = await fresh(db, WaitlistEntry)
    assert entry.status == "expired"
    today = clock().astimezone(PARIS).date()
    report = await indicators_service.compute(
        session=db, span=indicators_service.period(None, None, today), tariffs=app.state.tariffs
    )
    await db.commit()
    counted = report.as_dict()["waitlist"]
    assert counted["unfilled"]["total"] == 1
    assert counted["unfilled"]["by_modality"]["teleconsultation"] == 1
    assert counted["unfilled"]["by_channel"] == {"phone": 1, "sas": 0, "web": 0}
    assert counted["unfilled"]["by_commune"]["94016"] == 1  # the patient's commune (Cachan)
    assert sum(counted["unfilled"]["by_week"].values()) == 1
    assert (counted["waiting_at_end"], counted["left"]) == (0, 1)
    # Shown masked ("<5") to the coordinator, as every small count.
    shown = (await client.get("/api/indicators", headers=world.coordinator)).json()
    assert shown["waitlist"]["unfilled"]["total"] == "<5"


async def test_without_sms_consent_the_slot_is_on_the_call_list_one_click_books(
    app, client, db, world, fake_twilio
):
    start = tomorrow_at(world, 14)
    patient = await make_patient(db)
    booked = await book(
        client,
        world.secretary,
        patient_id=patient.id,
        practitioner_id=world.titular.id,
        start=start,
    )
    waiting = await waiting_patient(client, db, world, A, consent_sms=False, reachable="après 17 h")
    cancelled = await client.post(
        f"/api/appointments/{booked['id']}/cancel",
        json={"reason": "absence du médecin"},
        headers=world.secretary,
    )
    assert cancelled.status_code == 200, cancelled.text
    await worker(app).drain()
    assert texts_to(fake_twilio, A) == []
    [slot] = await fresh(db, FreedSlot)
    assert slot.source == "cancel_platform"
    response = await client.post(
        f"/api/waitlist/slots/{slot.id}/book",
        json={"entry_id": waiting["entry"]["id"]},
        headers=world.secretary,
    )
    assert response.status_code == 201, response.text
    again = await client.post(
        f"/api/waitlist/slots/{slot.id}/book",
        json={"entry_id": waiting["entry"]["id"]},
        headers=world.secretary,
    )
    assert again.status_code == 409
    [appointment] = await _appointments_at(db, start)
    assert appointment.request_id == waiting["entry"]["request_id"]
    rows = (await db.execute(select(SlotOffer.channel, SlotOffer.status))).all()
    await db.commit()
    assert rows == [("call", "accepted")]


async def test_a_session_opened_by_the_coordinator_is_offered_to_the_waiting_list(
    app, client, db, world, fake_twilio
):
    await waiting_patient(client, db, world, A)
    await waiting_patient(client, db, world, B)
    tomorrow = world.today + dt.timedelta(days=1)
    opened = await client.post(
        f"/api/practitioners/{world.other_titular.id}/sessions",
        json={
            "date": tomorrow.isoformat(),
            "kind": "teleconsultation",
            "start_time": "08:00",
            "end_time": "09:00",
        },
        headers=world.coordinator,
    )
    assert opened.status_code == 201, opened.text
    done = await sweep_job(app)
    await worker(app).drain()
    assert done.opened == 2  # one slot per waiting request, not the whole session
    [to_a], [to_b] = texts_to(fake_twilio, A), texts_to(fake_twilio, B)
    assert "Bernard" in to_a and "mardi 08/12 à 8h." in to_a
    assert "mardi 08/12 à 8h15" in to_b
    assert {s.source for s in await fresh(db, FreedSlot)} == {"session_opened"}
    again = await sweep_job(app)
    assert again.opened == 0


async def test_a_moved_appointment_offers_its_old_place_to_the_list(
    app, client, db, world, fake_twilio
):
    """Moving frees capacity too: the place it left is offered like a cancelled one."""
    patient = await make_patient(db)
    booked = await book(
        client,
        world.secretary,
        patient_id=patient.id,
        practitioner_id=world.titular.id,
        start=tomorrow_at(world, 14),
    )
    await waiting_patient(client, db, world, A, family="Alpha")
    moved = await client.post(
        f"/api/appointments/{booked['id']}/reschedule",
        json={"start_at": tomorrow_at(world, 16).isoformat()},
        headers=world.secretary,
    )
    assert moved.status_code == 200, moved.text
    await worker(app).drain()
    [slot] = await fresh(db, FreedSlot)
    assert (slot.source, slot.start_at) == ("moved", tomorrow_at(world, 14))
    [offer] = texts_to(fake_twilio, A)
    assert "à 14h" in offer and offer.startswith("Un créneau s'est libéré")
