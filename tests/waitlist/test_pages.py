"""The secretariat's pages: put a request on the list from its page, /liste-attente, the
dashboard's « créneau libéré : à proposer » with its one-click call list."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select

from app.appointments.models import Appointment, AppointmentStatus
from app.patients.models import Patient
from tests.factories import make_patient
from tests.web.conftest import login_as

from .conftest import book, tomorrow_at, worker


async def _request(client, db, world, **patient) -> int:
    person = await make_patient(db, **patient)
    await db.commit()
    created = await client.post(
        "/api/requests",
        json={"patient_id": person.id, "reason": "Toux", "urgency": "within_48h"},
        headers=world.secretary,
    )
    assert created.status_code == 201, created.text
    return created.json()["request"]["id"]


async def test_a_request_goes_on_the_list_from_its_page_with_consent_recorded(client, db, world):
    request_id = await _request(
        client, db, world, family_name="Attente", phone="+33639980021", sms_consent=False
    )
    csrf = await login_as(client, "secretaire")
    page = await client.get(f"/demandes/{request_id}")
    assert "Mettre sur la liste d'attente" in unescape(page.text)
    form = {"request_id": str(request_id), "consent_sms": "on", "consent_call": "on"}
    refused = await client.post("/liste-attente/ajouter", data=form)
    assert refused.status_code == 403
    added = await client.post(
        "/liste-attente/ajouter",
        data={**form, "csrf_token": csrf, "reachable": "après 17 h"},
    )
    assert added.status_code == 303
    assert added.headers["location"] == "/liste-attente?fait=ajoutee"
    listing = await client.get("/liste-attente?fait=ajoutee")
    assert listing.status_code == 200
    assert "La demande est sur la liste d'attente." in unescape(listing.text)
    assert "ATTENTE Jeanne" in unescape(listing.text) and "après 17 h" in unescape(listing.text)
    patient = await db.scalar(select(Patient).where(Patient.family_name == "Attente"))
    assert patient.sms_consent is True  # consent to be texted, recorded
    await db.commit()
    again = await client.post("/liste-attente/ajouter", data={**form, "csrf_token": csrf})
    assert again.status_code == 409
    assert "déjà sur la liste d'attente" in unescape(again.text)
    for bad in ("abc", "-1", "99999999999"):
        response = await client.post(
            "/liste-attente/ajouter", data={"request_id": bad, "csrf_token": csrf}
        )
        assert response.status_code in (404, 422), (bad, response.status_code)
    entry_id = re.search(r'action="/liste-attente/(\d+)/retirer"', listing.text).group(1)
    removed = await client.post(f"/liste-attente/{entry_id}/retirer", data={"csrf_token": csrf})
    assert removed.status_code == 303
    assert "Personne n'attend de créneau." in unescape((await client.get("/liste-attente")).text)


async def test_a_freed_slot_is_on_the_dashboard_to_call_and_one_click_books_it(
    app, client, db, world
):
    start = tomorrow_at(world, 14)
    first = await make_patient(db)
    await db.commit()
    booked = await book(
        client, world.secretary, patient_id=first.id, practitioner_id=world.titular.id, start=start
    )
    request_id = await _request(
        client, db, world, family_name="Sanssms", phone="+33639980022", sms_consent=False
    )
    response = await client.post(
        "/api/waitlist",
        json={"request_id": request_id, "consent_sms": False, "reachable": "le matin"},
        headers=world.secretary,
    )
    assert response.status_code == 201, response.text
    cancelled = await client.post(
        f"/api/appointments/{booked['id']}/cancel",
        json={"reason": "absence du médecin"},
        headers=world.secretary,
    )
    assert cancelled.status_code == 200
    await worker(app).drain()
    csrf = await login_as(client, "secretaire")
    dashboard = await client.get("/")
    assert 'data-poll="/liste-attente/tableau"' in dashboard.text
    fragment = await client.get("/liste-attente/tableau")
    shown = unescape(fragment.text)
    assert "Créneau libéré : à proposer" in shown
    assert "SANSSMS Jeanne" in shown and "06 39 98 00 22" in shown
    action = re.search(r'action="(/liste-attente/creneaux/\d+/reserver)"', fragment.text)
    entry = re.search(r'name="entry_id" value="(\d+)"', fragment.text).group(1)
    done = await client.post(action.group(1), data={"entry_id": entry, "csrf_token": csrf})
    assert done.status_code == 303 and done.headers["location"].startswith("/rendez-vous/")
    appointment = await db.scalar(
        select(Appointment).where(
            Appointment.request_id == request_id, Appointment.status == AppointmentStatus.booked
        )
    )
    await db.commit()
    assert appointment is not None and appointment.start_at == start
    twice = await client.post(action.group(1), data={"entry_id": entry, "csrf_token": csrf})
    assert twice.status_code == 409
    after = unescape((await client.get("/liste-attente/tableau")).text)
    assert "Aucun créneau libéré à proposer." in after
    log = unescape((await client.get("/liste-attente")).text)
    assert "annulé par la plateforme" in log and "appel à" in log and "repris à" in log


async def test_from_an_alphanumeric_sender_nobody_is_texted_an_offer_all_are_called(
    app, client, db, world, fake_twilio
):
    """Patients cannot answer an alphanumeric sender: no OUI/NON offer, the call list."""
    app.state.telephony_settings = app.state.telephony_settings.model_copy(
        update={"sms_reply_mode": "alphanumeric"}
    )
    first = await make_patient(db)
    await db.commit()
    booked = await book(
        client,
        world.secretary,
        patient_id=first.id,
        practitioner_id=world.titular.id,
        start=tomorrow_at(world, 14),
    )
    request_id = await _request(client, db, world, family_name="Texto", phone="+33639980023")
    response = await client.post(
        "/api/waitlist",
        json={"request_id": request_id, "consent_sms": True},
        headers=world.secretary,
    )
    assert response.status_code == 201, response.text
    await client.post(
        f"/api/appointments/{booked['id']}/cancel",
        json={"reason": "absence"},
        headers=world.secretary,
    )
    await worker(app).drain()
    assert [m for m in fake_twilio.messages if m.to == "+33639980023"] == []
    await login_as(client, "secretaire")
    assert "TEXTO Jeanne" in unescape((await client.get("/liste-attente/tableau")).text)
