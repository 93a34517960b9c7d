"""A freed home visit: offered to a waiting home-visit request that the GP's round can take
(the rounds' insertion check), and OUI books it into the round in force."""

from __future__ import annotations

from app.appointments.models import Appointment, AppointmentStatus
from app.core.timeutil import PARIS
from tests.factories import make_patient

from .conftest import (
    PATIENT_PHONE,
    FreedSlot,
    code_in,
    fresh,
    sms_from,
    texts_to,
    tomorrow_at,
    worker,
)

W = "+33639980031"


async def _home_visit_request(client, world, patient_id) -> int:
    response = await client.post(
        "/api/requests",
        json={
            "patient_id": patient_id,
            "reason": "Fièvre, ne peut pas se déplacer",
            "urgency": "within_48h",
            "modality": "home_visit",
            "cannot_travel": True,
        },
        headers=world.secretary,
    )
    assert response.status_code == 201, response.text
    return response.json()["request"]["id"]


async def test_a_freed_home_visit_goes_to_a_waiting_home_visit_that_fits_the_round(
    app, client, db, world, fake_twilio
):
    first = await make_patient(db)
    waiting = await make_patient(db, family_name="Domicile", phone=W)
    await db.commit()
    request_id = await _home_visit_request(client, world, first.id)
    booked = await client.post(
        "/api/appointments",
        json={
            "request_id": request_id,
            "practitioner_id": world.titular.id,
            "start_at": tomorrow_at(world, 11).isoformat(),
            "kind": "home_visit",
        },
        headers=world.secretary,
    )
    assert booked.status_code == 201, booked.text
    waiting_request = await _home_visit_request(client, world, waiting.id)
    added = await client.post(
        "/api/waitlist",
        json={"request_id": waiting_request, "consent_sms": True},
        headers=world.secretary,
    )
    assert added.status_code == 201, added.text
    await sms_from(client, fake_twilio, PATIENT_PHONE, "ANNULER")
    await worker(app).drain()
    [slot] = await fresh(db, FreedSlot)
    assert (slot.kind, slot.practitioner_id) == ("home_visit", world.titular.id)
    [offer] = texts_to(fake_twilio, W)
    assert offer.startswith("Un créneau s'est libéré: visite à domicile de")
    assert "mardi 08/12 entre" in offer
    await sms_from(client, fake_twilio, W, f"oui {code_in(offer)}")
    await worker(app).drain()
    rows = [
        a
        for a in await fresh(db, Appointment, request_id=waiting_request)
        if a.status == AppointmentStatus.booked
    ]
    assert len(rows) == 1
    visit = rows[0]
    assert (visit.kind, visit.practitioner_id) == ("home_visit", world.titular.id)
    assert visit.start_at.astimezone(PARIS).date() == tomorrow_at(world, 11).date()
    assert visit.route_order is not None  # inserted into the round in force
    [slot] = await fresh(db, FreedSlot)
    assert (slot.status, slot.refilled_appointment_id) == ("refilled", visit.id)
    assert texts_to(fake_twilio, W)[-1].startswith("RDV confirmé: visite à domicile")
