"""The regulator follows a slot's link with origin=sas, logs in, books; nowhere else."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.appointments.models import Appointment, Origin
from app.core.errors import Forbidden
from app.core.timeutil import PARIS
from app.outbox.models import OutboxMessage
from app.patients.models import Patient
from app.requests.models import CareRequest, Channel
from app.sas import service as sas_service
from tests.factories import token
from tests.sas.world import (
    REGULATOR_IDNPS,
    book_as_regulator,
    context,
    csrf_of,
    local,
    login,
    regulator,
    sas_gp,
    slot_values,
)

PATIENT = {
    "family_name": "Lemoine",
    "given_name": "Rose",
    "birth_date": "1985-04-12",
    "phone": "06 39 98 00 42",
    "reason": "Otalgie depuis hier",
}


async def _appointments(db) -> list[Appointment]:
    rows = (await db.scalars(select(Appointment).order_by(Appointment.id))).all()
    db.expunge_all()
    await db.rollback()
    return list(rows)


async def _arrive_from_sas(client, practitioner_id: int, username: str) -> str:
    """The SAS redirect: not logged in → login page → back on the agenda, origin kept."""
    target = f"/sas/praticiens/{practitioner_id}?origin=sas"
    response = await client.get(target)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={quote(target)}"
    response = await login(client, username, next_url=target)
    assert response.status_code == 303
    assert response.headers["location"] == target
    page = await client.get(target)
    assert page.status_code == 200
    return page.text


async def test_regulator_books_from_the_sas_link(client, db, clock):
    today = clock().astimezone(PARIS).date()
    gp = await sas_gp(db, today)
    user = await regulator(db)
    page = await _arrive_from_sas(client, gp.id, user.username)
    slots = slot_values(page)
    assert slots, page
    assert all(s.startswith("VR|") for s in slots)
    response = await client.post(
        f"/sas/praticiens/{gp.id}/reserver",
        data={**PATIENT, "slot": slots[0], "csrf_token": csrf_of(page)},
    )
    assert response.status_code == 303, response.text
    [appointment] = await _appointments(db)
    assert response.headers["location"] == f"/sas/rendez-vous/{appointment.id}"
    assert appointment.origin == Origin.sas
    assert appointment.sas_regulator_id == user.id
    assert appointment.sas_identifier
    assert appointment.start_at == dt.datetime.fromisoformat(slots[0].split("|")[1])
    care_request = await db.get(CareRequest, appointment.request_id)
    assert care_request.channel == Channel.sas
    patient = await db.get(Patient, appointment.patient_id)
    assert (patient.family_name, patient.phone) == ("Lemoine", "+33639980042")
    queued = (await db.scalars(select(OutboxMessage))).all()
    assert [(m.topic, m.payload["first"]) for m in queued] == [("sas_appointment", True)]
    confirmation = await client.get(response.headers["location"])
    assert confirmation.status_code == 200
    assert appointment.sas_identifier in confirmation.text
    # The slot is gone from the agenda.
    page = await client.get(f"/sas/praticiens/{gp.id}")
    assert slots[0] not in slot_values(page.text)


async def test_without_origin_sas_the_regulator_cannot_book(client, db, clock):
    today = clock().astimezone(PARIS).date()
    gp = await sas_gp(db, today)
    user = await regulator(db)
    assert (await login(client, user.username)).headers["location"] == "/sas"
    page = await client.get(f"/sas/praticiens/{gp.id}")
    assert page.status_code == 200
    assert slot_values(page.text) == []  # slots shown, no booking form
    assert "Consultation seule" in page.text
    slot = f"VR|{local(today, 15).astimezone(dt.UTC).isoformat()}"
    response = await client.post(
        f"/sas/praticiens/{gp.id}/reserver",
        data={**PATIENT, "slot": slot, "csrf_token": csrf_of(page.text)},
    )
    assert response.status_code == 403
    assert await _appointments(db) == []


async def test_the_service_path_refuses_a_session_not_from_the_sas(app, db, clock):
    today = clock().astimezone(PARIS).date()
    gp = await sas_gp(db, today)
    user = await regulator(db)
    async with app.state.sessionmaker() as session:
        actor = await session.get(User, user.id)
        with pytest.raises(Forbidden):
            await sas_service.book_for_regulator(
                session=session,
                actor=actor,
                from_sas=False,
                practitioner_id=gp.id,
                kind="teleconsultation",
                start_at=local(today, 15),
                patient=sas_service.SasPatient("A", "B", dt.date(1990, 1, 1), "motif"),
                ctx=context(app),
            )
        await session.rollback()
    assert await _appointments(db) == []


async def test_a_revoked_regulator_can_no_longer_book(app, client, db, clock, fhir):
    today = clock().astimezone(PARIS).date()
    gp = await sas_gp(db, today)
    user = await regulator(db)
    page = await _arrive_from_sas(client, gp.id, user.username)
    # INT_R02: the SAS withdraws the account.
    body = {
        "resourceType": "Practitioner",
        "meta": {"source": "urn:oid:1.2.250.1.213.3.6"},
        "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.1", "value": REGULATOR_IDNPS}],
        "active": False,
        "telecom": [{"system": "email", "value": "regul@example.test"}],
    }
    response = await client.put(
        f"/fhir/Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1|{REGULATOR_IDNPS}",
        json=body,
        headers={**fhir, "Content-Type": "application/fhir+json"},
    )
    assert response.status_code == 200, response.text
    response = await client.post(
        f"/sas/praticiens/{gp.id}/reserver",
        data={**PATIENT, "slot": slot_values(page)[0], "csrf_token": csrf_of(page)},
    )
    # The revocation deleted the server-side session: the form's CSRF token is gone too,
    # so the post is refused (403) before the login redirect could be.
    assert response.status_code in (303, 403)
    if response.status_code == 303:
        assert response.headers["location"].startswith("/login")
    assert await _appointments(db) == []
    # And the service itself refuses an inactive account, whatever the session says.
    async with app.state.sessionmaker() as session:
        actor = await session.get(User, user.id)
        assert actor.active is False
        with pytest.raises(Forbidden):
            await sas_service.book_for_regulator(
                session=session,
                actor=actor,
                from_sas=True,
                practitioner_id=gp.id,
                kind="teleconsultation",
                start_at=local(today, 15),
                patient=sas_service.SasPatient("A", "B", dt.date(1990, 1, 1), "motif"),
                ctx=context(app),
            )
        await session.rollback()


async def test_a_taken_slot_is_reported_on_the_page(client, db, clock, app):
    today = clock().astimezone(PARIS).date()
    gp = await sas_gp(db, today)
    user = await regulator(db)
    page = await _arrive_from_sas(client, gp.id, user.username)
    slot = slot_values(page)[0]
    other = await regulator(db, "regul.autre", national_id="810000000042")
    await book_as_regulator(app, other.id, gp.id, dt.datetime.fromisoformat(slot.split("|")[1]))
    response = await client.post(
        f"/sas/praticiens/{gp.id}/reserver",
        data={**PATIENT, "slot": slot, "csrf_token": csrf_of(page)},
    )
    assert response.status_code == 409
    assert "déjà pris" in response.text
    assert len(await _appointments(db)) == 1


async def test_regulator_bookings_are_refused_outside_the_sas_page(app, client, db, clock):
    """The staff API refuses regulators (403), and the guard refuses any other code path."""
    from app.appointments import service as appointments_service
    from app.appointments.schemas import BookingIn
    from app.patients import service as patients_service
    from app.patients.schemas import PatientIn
    from app.requests import service as requests_service
    from app.requests.schemas import RequestIn

    assert app.state.sas_settings.sas_regulator_bookings_only_from_sas  # on by default
    today = clock().astimezone(PARIS).date()
    gp = await sas_gp(db, today)
    gp_id = gp.id
    user = await regulator(db)
    regulator_id = user.id
    headers = await token(client, user.username)
    response = await client.post(
        "/api/patients",
        json={"family_name": "Sas", "given_name": "Alix", "birth_date": "1990-02-03"},
        headers=headers,
    )
    assert response.status_code == 403
    actor = await db.get(User, regulator_id)
    patient = await patients_service.create(
        session=db,
        patient_in=PatientIn(family_name="Sas", given_name="Alix", birth_date=dt.date(1990, 2, 3)),
        actor=actor,
    )
    care_request, _ = await requests_service.create(
        session=db,
        request_in=RequestIn(patient_id=patient.id, reason="SAS"),
        actor=actor,
        now=clock(),
    )
    with pytest.raises(Forbidden):
        await appointments_service.book(
            session=db,
            booking_in=BookingIn(
                request_id=care_request.id, practitioner_id=gp_id, start_at=local(today, 15)
            ),
            actor=actor,
            ctx=context(app),
        )
    await db.rollback()
    assert await _appointments(db) == []
    # The SAS page's path still books.
    assert await book_as_regulator(app, regulator_id, gp_id, local(today, 16))
