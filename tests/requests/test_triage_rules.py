"""Issue 19 items 6–9: what the triage promises, the regulator's decision, infants, and the
destinations other than the 15 — through the API and the pages, on the real database.

The clock is Monday 7 December 2026, 08:30 (Paris).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.accounts.models import Role
from app.core.timeutil import PARIS
from app.indicators import service as indicators_service
from app.requests.models import CareRequest
from tests.factories import make_patient, make_user, token
from tests.sas.world import book_as_regulator, regulator, sas_gp
from tests.sas.world import local as at_local


async def _secretary(client, db) -> dict[str, str]:
    await make_user(db, "secretaire", Role.secretary)
    return await token(client, "secretaire")


async def _request(client, headers, patient_id: int, **body) -> dict:
    response = await client.post(
        "/api/requests",
        json={"patient_id": patient_id, "reason": "Otalgie", **body},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _stored(db, request_id: int) -> CareRequest:
    stmt = select(CareRequest).where(CareRequest.id == request_id)
    return (await db.scalars(stmt.execution_options(populate_existing=True))).one()


# --- 6. The deadline fits the modality --------------------------------------------------


async def test_a_same_day_home_visit_after_the_round_offers_a_teleconsultation_then_the_next_round(
    client, db
):
    headers = await _secretary(client, db)
    person = await make_patient(db)
    body = await _request(
        client,
        headers,
        person.id,
        urgency="same_day",
        modality="home_visit",
        received_at="2026-12-07T14:30:00+01:00",
    )
    triage = body["triage"]
    assert triage["deadline"].startswith("2026-12-07T20:00")
    kinds = [(o["kind"], o["within_deadline"]) for o in triage["offers"]]
    assert kinds == [("teleconsultation", True), ("home_visit", False), ("unfilled", False)]
    assert triage["offers"][1]["by"].startswith("2026-12-08T13:00")
    assert "tournée du matin (10:00–13:00) a déjà commencé" in triage["offers"][1]["note"]
    # The same request at 09:00 is served by today's round: one offer, within the deadline.
    early = await _request(
        client,
        headers,
        person.id,
        urgency="same_day",
        modality="home_visit",
        received_at="2026-12-07T09:00:00+01:00",
    )
    assert [(o["kind"], o["within_deadline"]) for o in early["triage"]["offers"]] == [
        ("home_visit", True)
    ]


async def test_within_24h_on_saturday_moves_to_monday_and_says_so(client, db):
    headers = await _secretary(client, db)
    person = await make_patient(db)
    body = await _request(
        client, headers, person.id, urgency="within_24h", received_at="2026-12-12T10:00:00+01:00"
    )
    assert body["triage"]["deadline"].startswith("2026-12-14T20:00")
    note = body["triage"]["deadline_note"]
    assert "lundi 14/12 20:00" in note and "dimanche 13/12" in note and "116 117" in note
    assert (await _stored(db, body["request"]["id"])).deadline_note == note
    # A weekday request needs no note.
    plain = await _request(
        client, headers, person.id, urgency="within_24h", received_at="2026-12-08T10:00:00+01:00"
    )
    assert plain["triage"]["deadline_note"] is None


async def test_a_request_can_end_non_pourvue(client, db):
    headers = await _secretary(client, db)
    person = await make_patient(db)
    body = await _request(client, headers, person.id)
    response = await client.post(
        f"/api/requests/{body['request']['id']}/status",
        json={"status": "unfilled", "note": "Aucune visite possible dans l'échéance"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert (await _stored(db, body["request"]["id"])).status == "unfilled"


# --- 7. The regulator's decision wins over the age rule ------------------------------------


async def test_a_regulator_books_an_86_year_old_into_tomorrows_slot(app, client, db, clock):
    today = clock().astimezone(PARIS).date()
    gp = await sas_gp(db, today)
    user = await regulator(db)
    tomorrow = today + dt.timedelta(days=1)
    appointment_id = await book_as_regulator(
        app, user.id, gp.id, at_local(tomorrow, 15), birth_date=dt.date(1940, 1, 5)
    )
    assert appointment_id
    stored = (await db.scalars(select(CareRequest))).one()
    assert stored.urgency_decided_by == "regulator"
    assert stored.urgency == "within_24h"
    # The secretariat's default for the same patient stays the age rule (same day).
    headers = await _secretary(client, db)
    body = await _request(client, headers, stored.patient_id, urgency="within_48h")
    assert body["triage"]["urgency"] == "same_day"
    assert body["triage"]["urgency_decided_by"] == "age_rule"


# --- 8. Infants ---------------------------------------------------------------------------


async def test_fever_under_3_months_goes_to_the_15_even_without_the_box(client, db):
    headers = await _secretary(client, db)
    baby = await make_patient(db, given_name="Lina", birth_date=dt.date(2026, 10, 1))
    body = await _request(client, headers, baby.id, reason="Fièvre depuis ce matin")
    assert body["triage"]["redirected_15"] is True
    assert body["triage"]["destination"] == "samu_15"
    assert [f["code"] for f in body["triage"]["red_flags"]] == ["infant_fever"]
    assert body["request"]["status"] == "redirected_15"


async def test_infant_prompts_and_no_teleconsultation_under_3_months_without_override(client, db):
    headers = await _secretary(client, db)
    baby = await make_patient(db, given_name="Lina", birth_date=dt.date(2026, 10, 1))
    body = await _request(client, headers, baby.id, reason="Rhume, nez bouché")
    assert body["triage"]["prompts"] and "moins de 3 mois" in body["triage"]["prompts"][0]
    assert body["triage"]["modality_suggested"] == "home_visit"
    assert all(o["kind"] != "teleconsultation" for o in body["triage"]["offers"])
    refused = await client.post(
        "/api/requests",
        json={"patient_id": baby.id, "reason": "Rhume", "modality": "teleconsultation"},
        headers=headers,
    )
    assert refused.status_code == 422, refused.text
    assert "3 mois" in refused.text
    allowed = await _request(
        client,
        headers,
        baby.id,
        reason="Rhume",
        modality="teleconsultation",
        teleconsultation_override_reason="Parents à 40 km, pédiatre d'accord",
    )
    assert allowed["request"]["modality"] == "teleconsultation"
    stored = await _stored(db, allowed["request"]["id"])
    assert stored.teleconsultation_override_reason == "Parents à 40 km, pédiatre d'accord"


async def test_the_intake_page_shows_the_infant_prompts(client, db):
    await make_user(db, "secretaire", Role.secretary)
    from tests.sas.world import login

    await login(client, "secretaire")
    baby = await make_patient(db, given_name="Lina", birth_date=dt.date(2026, 10, 1))
    adult = await make_patient(db, given_name="Jean")
    page = await client.get(f"/demandes/nouvelle?patient_id={baby.id}")
    assert page.status_code == 200, page.text
    assert 'id="infant-prompts"' in page.text and "teleconsultation_override_reason" in page.text
    page = await client.get(f"/demandes/nouvelle?patient_id={adult.id}")
    assert 'id="infant-prompts"' not in page.text
    # The request page says what can be offered when the visit cannot make today's round.
    headers = await token(client, "secretaire")
    body = await _request(
        client,
        headers,
        adult.id,
        urgency="same_day",
        modality="home_visit",
        received_at="2026-12-07T14:30:00+01:00",
    )
    page = await client.get(f"/demandes/{body['request']['id']}")
    assert page.status_code == 200, page.text
    assert 'id="triage-offers"' in page.text and "téléconsultation le lundi 07/12" in page.text


# --- 9. Destinations other than the 15 ----------------------------------------------------


async def test_suicidal_ideation_without_danger_goes_to_the_3114_and_is_counted(client, db, app):
    headers = await _secretary(client, db)
    person = await make_patient(db)
    body = await _request(
        client, headers, person.id, red_flags=["suicidal"], suicidal_immediate_danger=False
    )
    assert body["triage"]["destination"] == "suicide_3114"
    assert "3114" in body["triage"]["message"]
    assert body["request"]["status"] == "oriented"
    danger = await _request(client, headers, person.id, red_flags=["suicidal"])
    assert danger["triage"]["destination"] == "samu_15"
    assert danger["request"]["status"] == "redirected_15"
    pharmacy = await _request(
        client, headers, person.id, reason="Brûlures urinaires", destination="pharmacist"
    )
    assert pharmacy["request"]["destination"] == "pharmacist"
    assert "pharmacie" in pharmacy["triage"]["message"]
    async with app.state.sessionmaker() as session:
        report = await indicators_service.compute(
            session=session,
            span=indicators_service.period(
                dt.date(2026, 12, 7), dt.date(2026, 12, 7), dt.date(2026, 12, 7)
            ),
            tariffs=app.state.tariffs,
        )
    counts = report.requests.by_destination
    assert counts["suicide_3114"] == 1
    assert counts["samu_15"] == 1
    assert counts["pharmacist"] == 1
    assert report.requests.needing_care == 0
