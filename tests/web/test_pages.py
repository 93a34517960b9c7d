"""Secretariat pages through the ASGI app: roles, CSRF, triage, booking, forms, roster."""

from __future__ import annotations

import datetime as dt
import html
import re

from sqlalchemy import select

from app.appointments.models import Appointment
from app.practitioners.models import DutySession
from app.requests.models import CareRequest
from app.web.svg import Point, round_map
from tests.factories import make_patient
from tests.web.conftest import csrf_of, login_as


def _proposal_fields(html: str) -> dict[str, str]:
    form = re.search(
        r'<form method="post" action="/demandes/\d+/reserver">(.*?)</form>', html, re.S
    )
    assert form, "no proposal on the page"
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form.group(1)))
    return fields


async def test_visitors_are_sent_to_login_and_roles_to_their_home(client, world):
    response = await client.get("/")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/"
    await login_as(client, "dr.martin")
    assert (await client.get("/")).headers["location"] == "/medecin"
    for path in ("/demandes/nouvelle", "/agenda", "/equipe", "/tableau/appels"):
        page = await client.get(path)
        assert page.status_code == 403 and "Accès refusé" in page.text, path


async def test_the_regulator_goes_to_the_sas_and_the_secretary_cannot_manage_the_roster(
    client, world
):
    await login_as(client, "regulateur")
    assert (await client.get("/")).headers["location"] == "/sas"
    assert (await client.get("/agenda")).status_code == 403
    client.cookies.clear()
    await login_as(client, "secretaire")
    assert (await client.get("/equipe")).status_code == 403
    page = await client.get("/")
    assert page.status_code == 200 and "Tableau de bord" in page.text
    assert 'href="/equipe"' not in page.text  # the nav follows the role


async def test_every_form_needs_the_csrf_token(client, db, world):
    await login_as(client, "secretaire")
    patient = await make_patient(db)
    response = await client.post("/demandes", data={"patient_id": patient.id, "reason": "x"})
    assert response.status_code == 403
    assert (await db.scalars(select(CareRequest))).all() == []


async def test_a_red_flag_is_recorded_as_redirected_to_the_15_whatever_button_is_pressed(
    client, db, world
):
    token = await login_as(client, "secretaire")
    patient = await make_patient(db)
    response = await client.post(
        "/demandes",
        data={
            "csrf_token": token,
            "patient_id": patient.id,
            "reason": "Douleur thoracique",
            "red_flags": "chest_pain",
            "action": "propose",
            "medecin_traitant_status": "none",
            "sms_consent": "on",
        },
    )
    assert response.status_code == 303  # post/redirect/get (issue 22)
    assert "Orienter vers le 15" in (await client.get(response.headers["location"])).text
    care_request = (await db.scalars(select(CareRequest))).one()
    assert care_request.status == "redirected_15" and care_request.red_flags == ["chest_pain"]
    page = await client.get(f"/demandes/{care_request.id}")
    assert "reserver" not in page.text  # no proposals offered
    booking = await client.post(
        f"/demandes/{care_request.id}/reserver",
        data={
            "csrf_token": token,
            "practitioner_id": world.titular.id,
            "kind": "teleconsultation",
            "start_at": "2026-12-07T15:00:00+01:00",
            "end_at": "2026-12-07T15:15:00+01:00",
        },
    )
    assert booking.status_code == 409 and "réorientée vers le 15" in booking.text
    assert (await db.scalars(select(Appointment))).all() == []


async def test_booking_a_proposal_confirms_it_and_says_whether_an_sms_goes(client, db, world):
    token = await login_as(client, "secretaire")
    patient = await make_patient(db, sms_consent=False)
    created = await client.post(
        "/demandes",
        data={
            "csrf_token": token,
            "patient_id": patient.id,
            "reason": "Angine",
            "medecin_traitant_status": "none",
        },
    )
    assert created.status_code == 303
    page = await client.get(created.headers["location"])
    assert "Meilleures propositions" in page.text
    fields = _proposal_fields(page.text)
    booked = await client.post(
        created.headers["location"] + "/reserver", data={**fields, "csrf_token": token}
    )
    assert booked.status_code == 303
    confirmation = await client.get(booked.headers["location"])
    assert "Rendez-vous réservé" in confirmation.text
    assert "SMS non envoyé : pas de consentement" in confirmation.text
    appointment = (await db.scalars(select(Appointment))).one()
    assert appointment.practitioner_id == int(fields["practitioner_id"])
    dashboard = await client.get("/")
    assert "Aucune demande en attente" in dashboard.text
    patient_page = await client.get(f"/patients/{patient.id}")
    assert "Angine" in patient_page.text and "Rendez-vous pris" in patient_page.text


async def test_a_waiting_request_shows_on_the_dashboard_with_its_countdown(client, db, world):
    token = await login_as(client, "secretaire")
    patient = await make_patient(db)
    await client.post(
        "/demandes",
        data={"csrf_token": token, "patient_id": patient.id, "reason": "Otite"},
    )
    page = await client.get("/")
    assert "Demandes en attente de décision (1)" in page.text
    assert 'class="countdown" data-deadline="2026-12-09T19:00:00+00:00"' in page.text
    live = await client.get("/tableau/appels")
    assert live.status_code == 200 and "<html" not in live.text


async def test_cancelling_from_the_appointment_page_needs_a_reason(client, db, world):
    token = await login_as(client, "secretaire")
    patient = await make_patient(db)
    created = await client.post(
        "/demandes", data={"csrf_token": token, "patient_id": patient.id, "reason": "Toux"}
    )
    fields = _proposal_fields((await client.get(created.headers["location"])).text)
    booked = await client.post(
        created.headers["location"] + "/reserver", data={**fields, "csrf_token": token}
    )
    url = booked.headers["location"].split("?")[0]
    refused = await client.post(url + "/annuler", data={"csrf_token": token, "reason": ""})
    assert refused.status_code == 422 and "Indiquez le motif" in refused.text
    done = await client.post(url + "/annuler", data={"csrf_token": token, "reason": "Guéri"})
    assert done.status_code == 303
    appointment = (await db.scalars(select(Appointment))).one()
    await db.refresh(appointment)
    assert appointment.status == "cancelled" and appointment.cancel_reason == "Guéri"


async def test_moving_an_appointment_keeps_the_typed_values_on_error(client, db, world):
    token = await login_as(client, "secretaire")
    patient = await make_patient(db)
    created = await client.post(
        "/demandes", data={"csrf_token": token, "patient_id": patient.id, "reason": "Toux"}
    )
    fields = _proposal_fields((await client.get(created.headers["location"])).text)
    booked = await client.post(
        created.headers["location"] + "/reserver", data={**fields, "csrf_token": token}
    )
    url = booked.headers["location"].split("?")[0]
    data = {"csrf_token": token, "date": "2026-12-08", "heure": "23:00", "practitioner_id": ""}
    refused = await client.post(url + "/deplacer", data=data)
    assert refused.status_code == 422
    assert "Aucune vacation" in refused.text and 'value="23:00"' in refused.text
    data["heure"] = "15:00"
    assert (await client.post(url + "/deplacer", data=data)).status_code == 303
    appointment = (await db.scalars(select(Appointment))).one()
    await db.refresh(appointment)
    assert appointment.start_at.isoformat() == "2026-12-08T14:00:00+00:00"


async def test_a_new_patient_form_keeps_values_and_warns_of_duplicates(client, db, world):
    token = await login_as(client, "secretaire")
    await make_patient(db, family_name="Dupont", given_name="Jeanne")
    data = {
        "csrf_token": token,
        "family_name": "Dupont",
        "given_name": "Jeanne",
        "birth_date": "",
        "phone": "06 39 98 00 99",
        "commune": "Fresnes",
    }
    invalid = await client.post("/patients/nouveau", data=data)
    assert invalid.status_code == 422
    assert 'id="err-birth_date"' in invalid.text and "Ce champ est obligatoire." in invalid.text
    assert 'value="Dupont"' in invalid.text and 'value="06 39 98 00 99"' in invalid.text
    data["birth_date"] = "1980-05-17"
    duplicate = await client.post("/patients/nouveau", data=data)
    assert duplicate.status_code == 422 and "Doublon probable" in duplicate.text
    assert "utiliser ce dossier" in duplicate.text
    confirmed = await client.post("/patients/nouveau", data={**data, "confirm_duplicate": "on"})
    assert confirmed.status_code == 303
    search = await client.get("/demandes/nouvelle?nom=dupont&naissance=1980-05-17")
    assert "Résultats (2)" in search.text and "Plusieurs patients correspondent" in search.text


async def test_the_coordinator_adds_a_session_with_french_errors_first(client, db, world):
    token = await login_as(client, "coordination")
    page = await client.get("/equipe")
    assert "Dr Inès Garnier" in page.text and "Ajouter une vacation" in page.text
    data = {
        "csrf_token": csrf_of(page.text),
        "practitioner_id": str(world.other_titular.id),
        "date": "2026-12-13",
        "kind": "teleconsultation",
        "start_time": "12:00",
        "end_time": "09:00",
    }
    refused = await client.post("/equipe/vacations", data=data)
    assert refused.status_code == 422
    assert "L'heure de fin doit suivre l'heure de début." in html.unescape(refused.text)
    assert 'value="2026-12-13"' in refused.text
    data.update(start_time="09:00", end_time="12:00", open_to_sas="on", csrf_token=token)
    assert (await client.post("/equipe/vacations", data=data)).status_code == 303
    duty = (
        await db.scalars(
            select(DutySession).where(DutySession.date.is_not(None)).order_by(DutySession.id.desc())
        )
    ).first()
    assert duty is not None and duty.open_to_sas and duty.practitioner_id == world.other_titular.id
    agenda = await client.get(f"/agenda?date=2026-12-13&medecin={world.other_titular.id}")
    assert "Téléconsultation 09:00–12:00" in agenda.text


async def test_an_absence_cancels_the_sessions_it_covers(client, db, world):
    token = await login_as(client, "coordination")
    data = {
        "csrf_token": token,
        "practitioner_id": str(world.other_titular.id),
        "start_date": "2026-12-09",
        "end_date": "2026-12-09",
        "reason": "Formation",
    }
    assert (await client.post("/equipe/absences", data=data)).status_code == 303
    agenda = await client.get(f"/agenda?date=2026-12-09&medecin={world.other_titular.id}")
    assert "Aucune vacation ce jour-là" in agenda.text
    assert "Formation" in (await client.get("/equipe")).text


async def test_the_week_view_shows_each_gp_and_day(client, world):
    await login_as(client, "secretaire")
    page = await client.get("/agenda?vue=semaine&date=2026-12-09")
    assert page.status_code == 200 and "semaine du lundi 7 décembre" in page.text
    assert page.text.count('<th scope="row">') == 3  # three GPs in the world


def test_a_round_map_draws_the_practice_and_each_stop_in_order():
    svg = round_map(
        Point(48.79, 2.33, "C", "Cabinet"),
        [Point(48.80, 2.34, "1", "1. A"), Point(48.78, 2.35, "2", "2. B")],
        title="Tournée du Dr X",
    )
    assert svg.count("<circle") == 2 and svg.count("<rect") == 2  # background + practice
    assert 'aria-label="Tournée du Dr X"' in svg
    points = re.search(r'polyline points="([^"]+)"', svg).group(1).split()
    assert len(points) == 4 and points[0] == points[-1]  # back to the practice


async def test_the_patient_page_shows_the_orientation_status_once_seen(client, db, world, clock):
    token = await login_as(client, "secretaire")
    patient = await make_patient(db, medecin_traitant_status="none")
    created = await client.post(
        "/demandes",
        data={
            "csrf_token": token,
            "patient_id": patient.id,
            "reason": "Lombalgie",
            "medecin_traitant_status": "none",
            "sms_consent": "on",
        },
    )
    fields = _proposal_fields((await client.get(created.headers["location"])).text)
    await client.post(
        created.headers["location"] + "/reserver", data={**fields, "csrf_token": token}
    )
    appointment = (await db.scalars(select(Appointment))).one()
    clock.set(appointment.start_at + dt.timedelta(minutes=5))  # « vu » from the start
    seen = await client.post(
        f"/api/appointments/{appointment.id}/status",
        json={"status": "fulfilled"},
        headers={"X-CSRF-Token": token},
    )
    assert seen.status_code == 200, seen.text
    page = await client.get(f"/patients/{patient.id}")
    assert page.status_code == 200
    assert 'id="orientation"' in page.text and "À orienter" in page.text
    assert "Pas de médecin traitant" in page.text


async def test_when_the_solver_times_out_the_nearest_free_slots_are_offered_and_bookable(
    client, db, world, monkeypatch
):
    from app.rounds import proposals as rounds_proposals
    from app.rounds.planner import SolverUnavailable

    async def timed_out(**_: object) -> None:
        raise SolverUnavailable()

    monkeypatch.setattr(rounds_proposals, "list_proposals", timed_out)
    token = await login_as(client, "secretaire")
    patient = await make_patient(db, sms_consent=False)
    created = await client.post(
        "/demandes",
        data={
            "csrf_token": token,
            "patient_id": patient.id,
            "reason": "Angine",
            "medecin_traitant_status": "none",
        },
    )
    page = await client.get(created.headers["location"])
    assert page.status_code == 200
    assert "créneaux libres les plus proches affichés" in html.unescape(page.text)
    assert "premier créneau libre" in html.unescape(page.text)
    fields = _proposal_fields(page.text)
    booked = await client.post(
        created.headers["location"] + "/reserver", data={**fields, "csrf_token": token}
    )
    assert booked.status_code == 303
    appointment = (await db.scalars(select(Appointment))).one()
    assert appointment.practitioner_id == int(fields["practitioner_id"])
