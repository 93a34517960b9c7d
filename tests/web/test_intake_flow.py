"""One call, one screen: no dead end, no double booking, post/redirect/get, French forms."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from app.appointments.billing import TariffTable
from app.appointments.models import Appointment
from app.audit.models import AuditEvent
from app.core.timeutil import PARIS
from app.indicators import service as indicators
from app.requests.models import CareRequest
from tests.factories import make_patient
from tests.web.conftest import login_as

MONDAY_1600 = dt.datetime(2026, 12, 7, 16, 0, tzinfo=PARIS)


def _forms(html: str) -> list[dict[str, str]]:
    found = re.findall(
        r'<form method="post" action="/demandes/\d+/reserver">(.*?)</form>', html, re.S
    )
    return [dict(re.findall(r'name="(\w+)" value="([^"]*)"', f)) for f in found]


async def _request(client, token: str, patient_id: int, **extra: str) -> int:
    created = await client.post(
        "/demandes",
        data={
            "csrf_token": token,
            "patient_id": str(patient_id),
            "reason": "Fièvre et fatigue",
            "medecin_traitant_status": "none",
            **extra,
        },
    )
    assert created.status_code == 303, created.text
    return int(created.headers["location"].rsplit("/", 1)[1])


async def test_home_visit_for_a_patient_over_80_at_16h_is_never_a_dead_end(
    client, db, world, clock
):
    """The blocker: same day forced, rounds over at 13:00. Every way out is on the page."""
    clock.set(MONDAY_1600)
    token = await login_as(client, "secretaire")
    patient = await make_patient(db, birth_date=dt.date(1940, 3, 1), reduced_mobility=True)
    pid = patient.id
    form = await client.get(f"/demandes/nouvelle?patient_id={pid}")
    # The urgency triage will force is shown before submit.
    assert re.search(r'<option value="same_day" selected>', form.text)
    assert "80 ans ou plus" in form.text and "Sous 48 h (par défaut)" not in form.text
    request_id = await _request(client, token, pid, cannot_travel="on")
    care_request = await db.get(CareRequest, request_id)
    assert (care_request.urgency, care_request.modality) == ("same_day", "home_visit")
    page = await client.get(f"/demandes/{request_id}")
    assert "Aucune option ne convient" in page.text
    for action in ("revoir", "orienter", "non-pourvue"):
        assert f'action="/demandes/{request_id}/{action}"' in page.text
    # Book past the deadline: tomorrow's round is offered, with a derogation reason.
    assert "Aucune option ne tient l&#39;échéance" in page.text
    options = _forms(page.text)
    assert options[0]["start_at"].startswith("2026-12-08")  # tomorrow's round
    assert all(o["start_at"] > "2026-12-07T20:00" for o in options)
    assert 'name="deadline_override_reason"' in page.text
    refused = await client.post(
        f"/demandes/{request_id}/reserver", data={**options[0], "csrf_token": token}
    )
    assert refused.status_code == 409 and "motif de dérogation" in refused.text
    booked = await client.post(
        f"/demandes/{request_id}/reserver",
        data={
            **options[0],
            "csrf_token": token,
            "deadline_override_reason": "Tournée du matin terminée",
        },
    )
    assert booked.status_code == 303, booked.text
    await db.rollback()  # a fresh read (SQLite snapshot)
    appointment = (await db.scalars(select(Appointment))).one()
    assert appointment.deadline_override_reason == "Tournée du matin terminée"


async def test_widen_the_urgency_switch_modality_orient_or_close_unfilled(client, db, world, clock):
    clock.set(MONDAY_1600)
    token = await login_as(client, "secretaire")
    patient = await make_patient(db, birth_date=dt.date(1940, 3, 1), reduced_mobility=True)
    pid = patient.id
    first = await _request(client, token, pid, cannot_travel="on")
    missing = await client.post(
        f"/demandes/{first}/revoir", data={"csrf_token": token, "urgency": "within_24h"}
    )
    assert missing.status_code == 422 and "Indiquez le motif du changement." in missing.text
    widened = await client.post(
        f"/demandes/{first}/revoir",
        data={"csrf_token": token, "urgency": "within_24h", "reconsider_reason": "Avis du fils"},
    )
    assert widened.status_code == 303
    await db.rollback()
    care_request = await db.get(CareRequest, first)
    assert care_request.urgency == "within_24h" and care_request.urgency_decided_by == "secretariat"
    assert care_request.deadline > MONDAY_1600 + dt.timedelta(hours=20)
    page = await client.get(f"/demandes/{first}")
    options = _forms(page.text)
    assert options and "deadline_override_reason" not in page.text  # tomorrow holds now
    assert "Demande revue : Avis du fils" in page.text
    audit = (await db.scalars(select(AuditEvent).where(AuditEvent.action == "reconsider"))).one()
    assert audit.detail["reason"] == "Avis du fils"

    switched = await client.post(
        f"/demandes/{first}/revoir",
        data={"csrf_token": token, "modality": "teleconsultation", "reconsider_reason": "Accepte"},
    )
    assert switched.status_code == 303
    await db.rollback()
    assert (await db.get(CareRequest, first)).modality == "teleconsultation"

    second = await _request(client, token, pid, cannot_travel="on")
    oriented = await client.post(
        f"/demandes/{second}/orienter",
        data={
            "csrf_token": token,
            "destination": "pdsa_116117",
            "orient_note": "Rappeler le 116 117",
        },
    )
    assert oriented.status_code == 303
    await db.rollback()
    assert (await db.get(CareRequest, second)).status == "oriented"

    third = await _request(client, token, pid, cannot_travel="on")
    too_long = await client.post(
        f"/demandes/{third}/non-pourvue", data={"csrf_token": token, "unfilled_reason": "x" * 501}
    )
    assert too_long.status_code == 422
    assert "Texte trop long (500 caractères au plus)." in too_long.text
    closed = await client.post(
        f"/demandes/{third}/non-pourvue",
        data={"csrf_token": token, "unfilled_reason": "Aucun médecin disponible"},
    )
    assert closed.status_code == 303
    await db.rollback()
    unfilled = await db.get(CareRequest, third)
    assert unfilled.status == "unfilled"
    assert unfilled.status_note == "Non pourvue : Aucun médecin disponible"
    dashboard = await client.get("/")
    assert f"/demandes/{third}" not in dashboard.text  # nothing left pending
    # Counted in the indicators (app/indicators: requests.unfilled).
    report = await indicators.compute(
        session=db,
        span=indicators.period(MONDAY_1600.date(), MONDAY_1600.date(), MONDAY_1600.date()),
        tariffs=TariffTable(),
    )
    assert report.requests.unfilled == 1
    closed_page = await client.get(f"/demandes/{third}")
    assert 'class="countdown"' not in closed_page.text  # no countdown once closed
    reopened = await client.post(f"/demandes/{third}/rouvrir", data={"csrf_token": token})
    assert reopened.status_code == 303
    await db.rollback()
    assert (await db.get(CareRequest, third)).status == "new"


async def test_same_patient_twice_at_the_same_time_needs_confirmation(client, db, world):
    token = await login_as(client, "secretaire")
    patient = await make_patient(db)
    pid = patient.id
    first = await _request(client, token, pid)
    second = await _request(client, token, pid)
    option = _forms((await client.get(f"/demandes/{first}")).text)[0]
    assert (
        await client.post(f"/demandes/{first}/reserver", data={**option, "csrf_token": token})
    ).status_code == 303
    triage_form = await client.get(f"/demandes/nouvelle?patient_id={pid}")
    assert 'id="upcoming-warning"' in triage_form.text  # warned at triage already
    page = await client.get(f"/demandes/{second}")
    assert 'id="same-day-warning"' in page.text and "déjà un rendez-vous" in page.text
    # Another GP, the same time: the slot is free, the patient is not.
    same = next(
        {**o, "csrf_token": token}
        for o in _forms(page.text)
        if o["start_at"] == option["start_at"] and o["practitioner_id"] != option["practitioner_id"]
    )
    refused = await client.post(f"/demandes/{second}/reserver", data=same)
    assert refused.status_code == 409
    assert "Ce patient a déjà un rendez-vous" in refused.text
    assert 'name="confirm_same_day"' in refused.text
    await db.rollback()
    assert len((await db.scalars(select(Appointment))).all()) == 1
    confirmed = await client.post(
        f"/demandes/{second}/reserver", data={**same, "confirm_same_day": "on"}
    )
    assert confirmed.status_code == 303, confirmed.text
    await db.rollback()
    assert len((await db.scalars(select(Appointment))).all()) == 2


async def test_orienting_to_the_15_is_post_redirect_get(client, db, world):
    token = await login_as(client, "secretaire")
    patient = await make_patient(db)
    pid = patient.id
    form = await client.get(f"/demandes/nouvelle?patient_id={pid}")
    assert "la réorientation est enregistrée" not in form.text
    response = await client.post(
        "/demandes",
        data={
            "csrf_token": token,
            "patient_id": str(pid),
            "reason": "Douleur thoracique",
            "red_flags": "chest_pain",
            "action": "redirect_15",
            "medecin_traitant_status": "none",
        },
    )
    assert response.status_code == 303
    location = response.headers["location"]
    for _ in range(2):  # F5 on the result re-reads it
        page = await client.get(location)
        assert page.status_code == 200 and "Orienter vers le 15" in page.text
        assert "DUPONT Jeanne" in page.text and "— , —" not in page.text
    await db.rollback()
    assert len((await db.scalars(select(CareRequest))).all()) == 1


async def test_postal_code_and_commune_must_agree(client, db, world):
    token = await login_as(client, "secretaire")
    response = await client.post(
        "/patients/nouveau",
        data={
            "csrf_token": token,
            "family_name": "Petit",
            "given_name": "Louis",
            "birth_date": "1970-01-01",
            "commune": "Cachan",
            "postal_code": "75001",
            "medecin_traitant_status": "none",
        },
    )
    assert response.status_code == 422
    assert "ne correspond pas à Cachan (94230)" in response.text
    assert 'maxlength="5"' in response.text


async def test_proposals_offer_a_choice_of_times_not_every_gp_at_the_same_time(client, db, world):
    token = await login_as(client, "secretaire")
    patient = await make_patient(db)
    request_id = await _request(client, token, patient.id)
    page = await client.get(f"/demandes/{request_id}")
    best = _forms(page.text.split('id="other-times"')[0])
    assert len(best) == 5
    assert len({o["start_at"] for o in best}) >= 3, best  # other times and days
    assert len({o["practitioner_id"] for o in best}) >= 2  # across GPs too
    assert "Autres horaires possibles" in page.text
    assert "Premier créneau libre de ce médecin" in page.text  # each with its why
