"""No outcome before the care, on every surface; the act dated at the care; same-day undo."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.appointments.models import Appointment
from app.audit.models import AuditEvent
from app.gp.models import VisitOutcome
from tests.factories import token
from tests.gp.helpers import book, local, new_request
from tests.gp.test_pages import _csrf, _login


async def _booked(client, world, db, hour: int = 14, kind: str | None = None) -> int:
    _p, request_id = await new_request(client, world, db)
    return (
        await book(client, world, request_id, world.titular.id, local(world.today, hour), kind)
    )["id"]


async def test_seen_from_the_start_absent_after_the_grace_period_on_every_surface(
    client, world, db, clock
):
    first = await _booked(client, world, db, 14)
    second = await _booked(client, world, db, 15)
    # The GP's API, before the start: refused in French, nothing recorded.
    clock.set(local(world.today, 13, 59))
    api = await client.post(
        f"/api/me/appointments/{first}/outcome", json={"status": "fulfilled"}, headers=world.gp
    )
    assert api.status_code == 409
    assert api.json()["code"] == "outcome_too_early"
    assert "avant son début" in api.json()["message"]
    # The secretariat's status route: the same rule.
    status = await client.post(
        f"/api/appointments/{first}/status", json={"status": "fulfilled"}, headers=world.secretary
    )
    assert status.status_code == 409 and status.json()["code"] == "outcome_too_early"
    # Absent: not before start + 15 min (the default grace period).
    clock.set(local(world.today, 14, 14))
    absent = await client.post(
        f"/api/me/appointments/{first}/outcome", json={"status": "noshow"}, headers=world.gp
    )
    assert absent.status_code == 409
    assert "à partir du" in absent.json()["message"] and "14h15" in absent.json()["message"]
    # From the start, « vu » is accepted.
    clock.set(local(world.today, 14, 0))
    seen = await client.post(
        f"/api/me/appointments/{first}/outcome", json={"status": "fulfilled"}, headers=world.gp
    )
    assert seen.status_code == 200, seen.text
    # From start + grace, « absent » is accepted (secretariat route).
    clock.set(local(world.today, 15, 15))
    absent = await client.post(
        f"/api/appointments/{second}/status", json={"status": "noshow"}, headers=world.secretary
    )
    assert absent.status_code == 200, absent.text
    rows = (await db.scalars(select(Appointment).order_by(Appointment.id))).all()
    assert [r.status for r in rows] == ["fulfilled", "noshow"]


async def test_the_gp_page_refuses_an_outcome_before_the_care(app, client, world, db, clock):
    first = await _booked(client, world, db, 14)
    await _login(client, "dr.martin")
    html = (await client.get("/medecin")).text
    response = await client.post(
        f"/medecin/rendez-vous/{first}/issue",
        data={"status": "fulfilled", "csrf_token": _csrf(html), "confirmed": "true"},
    )
    assert response.status_code == 409
    assert "avant son début" in response.text
    row = await db.get(Appointment, first)
    assert row.status == "booked"
    # From the start it is recorded, with the médecin traitant question answered on the page.
    patient_id = row.patient_id
    db.expunge_all()
    await db.rollback()
    clock.set(local(world.today, 14, 2))
    response = await client.post(
        f"/medecin/rendez-vous/{first}/issue",
        data={
            "status": "fulfilled",
            "medecin_traitant_status": "declared",
            "csrf_token": _csrf(html),
            "confirmed": "true",  # the page's confirmation step, answered
        },
    )
    assert response.status_code == 303, response.text
    from app.patients.models import Patient

    assert (await db.get(Patient, patient_id)).medecin_traitant_status == "declared"


async def test_the_act_is_dated_at_the_care_not_at_the_recording(client, world, db, clock):
    first = await _booked(client, world, db, 14)
    # Recorded two days later: the act keeps the care's date.
    clock.set(local(world.today, 14) + dt.timedelta(days=2))
    response = await client.post(
        f"/api/me/appointments/{first}/outcome", json={"status": "fulfilled"}, headers=world.gp
    )
    assert response.status_code == 200, response.text
    outcome = await db.scalar(select(VisitOutcome).where(VisitOutcome.appointment_id == first))
    assert outcome.care_at == local(world.today, 14)


async def test_the_author_undoes_an_outcome_the_same_day_only(client, world, db, clock):
    first = await _booked(client, world, db, 14)
    second = await _booked(client, world, db, 15)
    clock.set(local(world.today, 16))
    for appointment_id in (first, second):
        response = await client.post(
            f"/api/me/appointments/{appointment_id}/outcome",
            json={"status": "fulfilled"},
            headers=world.gp,
        )
        assert response.status_code == 200, response.text
    undo = f"/api/me/appointments/{first}/outcome/undo"
    # Another user (the coordination) is not the author.
    other = await client.post(undo, headers=world.coordinator)
    assert other.status_code == 409 and other.json()["code"] == "outcome_undo_not_author"
    # The author, the same day: back to « booked », the recorded act gone, audited.
    clock.set(local(world.today, 19))
    response = await client.post(undo, headers=world.gp)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "booked"
    assert await db.scalar(select(VisitOutcome).where(VisitOutcome.appointment_id == first)) is None
    event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "outcome_undo"))
    assert event is not None and event.entity_id == first and event.username == "dr.martin"
    # It can be recorded again.
    again = await client.post(
        f"/api/me/appointments/{first}/outcome", json={"status": "noshow"}, headers=world.gp
    )
    assert again.status_code == 200, again.text
    # The next day: too late.
    clock.set(local(world.today, 9) + dt.timedelta(days=1))
    late = await client.post(f"/api/me/appointments/{second}/outcome/undo", headers=world.gp)
    assert late.status_code == 409 and late.json()["code"] == "outcome_undo_too_late"
    assert "jour même" in late.json()["message"]


async def test_the_secretariat_undoes_its_own_status_the_same_day(client, world, db, clock):
    first = await _booked(client, world, db, 14)
    clock.set(local(world.today, 14, 30))
    response = await client.post(
        f"/api/appointments/{first}/status", json={"status": "noshow"}, headers=world.secretary
    )
    assert response.status_code == 200, response.text
    coordinator = await token(client, "coordination")
    refused = await client.post(f"/api/appointments/{first}/status/undo", headers=coordinator)
    assert refused.status_code == 409
    response = await client.post(f"/api/appointments/{first}/status/undo", headers=world.secretary)
    assert response.status_code == 200, response.text
    assert (await db.get(Appointment, first)).status == "booked"
