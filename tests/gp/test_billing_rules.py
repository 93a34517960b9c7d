"""Issue 19, billing: each rule on the real database, named by its case, codes and amounts.

Monday 7 December 2026 is ``world.today``; Saturday is ``today + 5``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from app.appointments import billing
from app.appointments.models import Appointment, BillingSetting
from app.appointments.video import RoomOnBase, from_base_url
from app.core.clock import FixedClock
from app.gp.models import VisitOutcome
from app.messaging.models import SmsKind, SmsMessage
from telephony.gsm import is_gsm7
from tests.factories import make_patient
from tests.fake_video import FakeVideo
from tests.gp.helpers import book, book_sas, local, new_request
from tests.web.conftest import login_as


@pytest.fixture(autouse=True)
def video(app) -> FakeVideo:
    app.state.video = FakeVideo()
    return app.state.video


async def _request(client, world, db, *, referred: bool = False, **patient) -> int:
    person = await make_patient(db, **patient)
    response = await client.post(
        "/api/requests",
        json={
            "patient_id": person.id,
            "reason": "Toux",
            "urgency": "within_48h",
            "referred_by_medecin_traitant": referred,
        },
        headers=world.secretary,
    )
    assert response.status_code == 201, response.text
    assert response.json()["request"]["referred_by_medecin_traitant"] is referred
    return response.json()["request"]["id"]


_CLOCK: dict[str, FixedClock] = {}


@pytest.fixture(autouse=True)
def _keep_clock(clock: FixedClock) -> None:
    _CLOCK["now"] = clock


async def _outcome(client, headers, appointment_id, **body):
    # Outcomes are recorded after the care (app/appointments/timing.py): move past its start.
    clock = _CLOCK["now"]
    start = dt.datetime.fromisoformat(
        (await client.get(f"/api/appointments/{appointment_id}", headers=headers)).json()[
            "start_at"
        ]
    )
    if clock() < start + dt.timedelta(minutes=20):
        clock.set(start + dt.timedelta(minutes=20))
    return await client.post(
        f"/api/me/appointments/{appointment_id}/outcome",
        json={"status": "fulfilled", **body},
        headers=headers,
    )


def _with_mt(world) -> dict:
    """A patient whose médecin traitant is another GP of the CPTS (not the one seeing them)."""
    return {"medecin_traitant_status": "declared", "medecin_traitant_id": world.other_titular.id}


# --- 1. MCG ---------------------------------------------------------------------------------


async def test_mcg_adressé_par_son_médecin_traitant_tcg_plus_mcg(client, world, db):
    """Adressé par son médecin traitant, téléconsultation lundi 14:00 → TCG+MCG = 30 €."""
    request_id = await _request(client, world, db, referred=True, **_with_mt(world))
    booked = await book(client, world, request_id, world.titular.id, local(world.today, 14))
    assert booked["act_code"] == "TCG" and booked["surcharges"] == ["MCG"]
    billing_out = (await _outcome(client, world.gp, booked["id"])).json()["billing"]
    assert (billing_out["surcharges"], billing_out["total"]) == (["MCG"], "30.00")


async def test_mcg_avec_médecin_traitant_non_adressé_le_médecin_peut_l_ajouter(client, world, db):
    """Médecin traitant déclaré, non adressé → TCG 25 € ; le médecin ajoute la MCG → 30 €."""
    request_id = await _request(client, world, db, **_with_mt(world))
    booked = await book(client, world, request_id, world.titular.id, local(world.today, 14))
    assert booked["surcharges"] == []
    response = await _outcome(client, world.gp, booked["id"], add_surcharges=["MCG"])
    assert response.status_code == 200, response.text
    billing_out = response.json()["billing"]
    assert (billing_out["surcharges"], billing_out["total"]) == (["MCG"], "30.00")
    assert "ajoutée par le médecin" in billing_out["reasons"]["MCG"]


async def test_mcg_patient_sans_médecin_traitant_visite_samedi_10h_vg_md_pas_de_mcg(
    app, client, world, db, clock
):
    """Patient sans médecin traitant, visite samedi 10:00 → VG+MD = 40 €, pas de MCG,
    même quand la coordination a choisi la MCG sur tout acte de la plateforme."""
    await billing.set_mcg_on_every_platform_act(db, value=True, user_id=None, now=app.state.clock())
    await db.commit()
    saturday = world.today + dt.timedelta(days=5)
    clock.set(local(saturday - dt.timedelta(days=1), 12))  # received Friday noon
    request_id = await _request(client, world, db, referred=True)
    booked = await book(
        client, world, request_id, world.titular.id, local(saturday, 10), kind="home_visit"
    )
    assert (booked["act_code"], booked["surcharges"]) == ("VG", ["MD"])
    row = await db.get(Appointment, booked["id"])
    assert row.billing_detail["total"] == "40.00"
    assert "pas à la visite" in row.billing_detail["reasons"]["MCG"]


async def test_mcg_adressé_par_son_médecin_traitant_en_visite_lundi_10h_vg_md_pas_de_mcg(
    client, world, db
):
    """Adressé par son médecin traitant, visite lundi 10:00 → VG+MD = 40 € : la MCG
    s'applique à la consultation, pas à la visite (la CPAM rejette VG+MCG)."""
    request_id = await _request(client, world, db, referred=True, **_with_mt(world))
    booked = await book(
        client, world, request_id, world.titular.id, local(world.today, 10), kind="home_visit"
    )
    assert (booked["act_code"], booked["surcharges"]) == ("VG", ["MD"])
    row = await db.get(Appointment, booked["id"])
    assert "pas à la visite" in row.billing_detail["reasons"]["MCG"]
    refused = await _outcome(client, world.gp, booked["id"], add_surcharges=["MCG"])
    assert refused.status_code in (409, 422), refused.text  # not addable either


async def test_mcg_bénéficiaire_de_l_ame_adressé_tcg_seule(client, world, db):
    """Bénéficiaire de l'AME, même adressé par un médecin traitant → TCG 25 €, pas de MCG."""
    request_id = await _request(client, world, db, referred=True, ame=True, **_with_mt(world))
    booked = await book(client, world, request_id, world.titular.id, local(world.today, 14))
    assert (booked["act_code"], booked["surcharges"]) == ("TCG", [])
    row = await db.get(Appointment, booked["id"])
    assert "AME" in row.billing_detail["reasons"]["MCG"]


async def test_mcg_réglage_de_la_coordination_mcg_sur_tout_acte_avec_médecin_traitant(
    app, client, world, db
):
    """Réglage « MCG sur tout acte » (base de données) : médecin traitant, non adressé →
    TCG+MCG = 30 € ; réglage par défaut : TCG seule."""
    assert await db.get(BillingSetting, 1) is None  # off by default
    first = await _request(client, world, db, **_with_mt(world))
    booked = await book(client, world, first, world.titular.id, local(world.today, 14))
    assert booked["surcharges"] == []
    await billing.set_mcg_on_every_platform_act(db, value=True, user_id=None, now=app.state.clock())
    await db.commit()
    second = await _request(client, world, db, **_with_mt(world))
    booked = await book(client, world, second, world.titular.id, local(world.today, 14, 15))
    assert booked["surcharges"] == ["MCG"]
    row = await db.get(Appointment, booked["id"])
    assert "choix de la coordination" in row.billing_detail["reasons"]["MCG"]


# --- 2. SNP and PDSA hours ----------------------------------------------------------------


async def test_sas_téléconsultation_samedi_16h_tcg_plus_crs_pas_de_snp(
    app, client, world, db, clock
):
    """SAS téléconsultation samedi 16:00 → TCG+CRS = 25 + 26,50 = 51,50 €, pas de SNP."""
    saturday = world.today + dt.timedelta(days=5)
    clock.set(local(saturday, 15))  # regulated Saturday 15:00
    _p, request_id = await new_request(client, world, db)
    appointment_id = await book_sas(app, db, request_id, world.titular.id, local(saturday, 16))
    row = await db.get(Appointment, appointment_id)
    assert (row.act_code, row.surcharges) == ("TCG", ["CRS"])
    assert row.billing_detail["total"] == "51.50"
    assert "permanence des soins" in row.billing_detail["reasons"]["SNP"]


async def test_sas_téléconsultation_lundi_16h_tcg_plus_snp(app, client, world, db):
    """SAS téléconsultation lundi 16:00 (hors PDSA) → TCG+SNP = 40 €, pas de code PDSA."""
    _p, request_id = await new_request(client, world, db)
    appointment_id = await book_sas(app, db, request_id, world.titular.id, local(world.today, 16))
    row = await db.get(Appointment, appointment_id)
    assert (row.act_code, row.surcharges, row.billing_detail["total"]) == (
        "TCG",
        ["SNP"],
        "40.00",
    )


def test_the_pdsa_calendar_nights_saturday_afternoon_sundays_and_regional_holidays():
    calendar = billing.PdsaCalendar()
    monday = dt.date(2026, 12, 7)
    assert calendar.period(local(monday, 16)) is None
    assert calendar.period(local(monday, 20)) == billing.PdsaPeriod.night
    assert calendar.period(local(monday, 7, 59)) == billing.PdsaPeriod.night
    assert calendar.period(local(monday, 3)) == billing.PdsaPeriod.deep_night
    assert calendar.period(local(monday + dt.timedelta(days=5), 11, 59)) is None
    assert calendar.period(local(monday + dt.timedelta(days=5), 12)) == billing.PdsaPeriod.saturday
    assert calendar.period(local(monday + dt.timedelta(days=6), 10)) == (
        billing.PdsaPeriod.sunday_holiday
    )
    christmas = dt.date(2026, 12, 25)  # a Friday
    assert calendar.period(local(christmas, 10)) == billing.PdsaPeriod.sunday_holiday
    st_stephen = dt.date(2026, 12, 26)  # Saturday: a public holiday in Moselle only
    assert calendar.period(local(st_stephen, 10)) is None
    moselle = billing.PdsaCalendar(holidays_subdivision="57")
    assert moselle.period(local(st_stephen, 10)) == billing.PdsaPeriod.sunday_holiday


# --- 3. MEG ---------------------------------------------------------------------------------


async def test_meg_enfant_de_3_ans_tcg_plus_meg(client, world, db):
    """Enfant de 3 ans sans médecin traitant, téléconsultation → TCG+MEG = 30 € ;
    enfant de 6 ans révolus → pas de MEG."""
    child = await _request(client, world, db, birth_date=dt.date(2023, 6, 1))
    booked = await book(client, world, child, world.titular.id, local(world.today, 14))
    assert (booked["act_code"], booked["surcharges"]) == ("TCG", ["MEG"])
    billing_out = (await _outcome(client, world.gp, booked["id"])).json()["billing"]
    assert (billing_out["surcharges"], billing_out["total"]) == (["MEG"], "30.00")
    older = await _request(client, world, db, birth_date=dt.date(2020, 12, 7))
    booked = await book(client, world, older, world.titular.id, local(world.today, 14, 15))
    assert booked["surcharges"] == []


async def test_an_ineligible_surcharge_cannot_be_added_at_outcome(client, world, db):
    """Adulte, téléconsultation : ajouter MEG ou SNP → 409 avec la raison en français."""
    request_id = await _request(client, world, db, **_with_mt(world))
    booked = await book(client, world, request_id, world.titular.id, local(world.today, 14))
    response = await _outcome(client, world.gp, booked["id"], add_surcharges=["MEG"])
    assert response.status_code == 409
    assert "MEG" in response.json()["message"] and "6 ans" in response.json()["message"]
    response = await _outcome(client, world.gp, booked["id"], add_surcharges=["SNP"])
    assert response.status_code == 409 and "régulateur" in response.json()["message"]


# --- 4. TCG needs video ---------------------------------------------------------------------


async def test_a_teleconsultation_gets_a_video_room_sent_by_sms_and_shown_to_the_gp(
    client, world, db, video
):
    request_id = await _request(client, world, db)
    booked = await book(client, world, request_id, world.titular.id, local(world.today, 14))
    row = await db.get(Appointment, booked["id"])
    assert row.video_url == video.rooms[0] == "https://visio.test.invalid/salle-1"
    [sms] = (await db.scalars(select(SmsMessage))).all()
    assert sms.kind == SmsKind.booking_confirmation
    assert f"Lien de connexion: {row.video_url}" in sms.body
    assert "appellera" not in sms.body
    assert is_gsm7(sms.body)
    await db.commit()  # end the read (SQLite would lock the next write)
    agenda = await client.get(
        "/api/me/agenda", params={"from": world.today.isoformat()}, headers=world.gp
    )
    stops = [s for d in agenda.json()["days"] for b in d["sessions"] for s in b["appointments"]]
    assert [s["video_url"] for s in stops if s["appointment_id"] == booked["id"]] == [row.video_url]
    # A home visit gets no room.
    other = await _request(client, world, db)
    visit = await book(
        client, world, other, world.titular.id, local(world.today, 10), kind="home_visit"
    )
    assert (await db.get(Appointment, visit["id"])).video_url is None


async def test_a_teleconsultation_by_phone_only_is_not_a_tcg(app, client, world, db):
    """Téléconsultation faite sans vidéo → pas de TCG, aucun acte (ameli), enregistré ;
    règle modifiable : facturée G si la coordination le choisit."""
    request_id = await _request(client, world, db)
    booked = await book(client, world, request_id, world.titular.id, local(world.today, 14))
    response = await _outcome(client, world.gp, booked["id"], video=False)
    assert response.status_code == 200, response.text
    billing_out = response.json()["billing"]
    assert (billing_out["act_code"], billing_out["surcharges"], billing_out["total"]) == (
        None,
        [],
        "0",
    )
    assert "pas une TCG" in billing_out["reasons"]["acte"]
    row = await db.scalar(select(VisitOutcome).where(VisitOutcome.appointment_id == booked["id"]))
    assert row.video is False
    app.state.tariffs = dataclasses.replace(
        app.state.tariffs, teleconsultation_without_video_act="G"
    )
    other = await _request(client, world, db)
    booked = await book(client, world, other, world.titular.id, local(world.today, 14, 15))
    billing_out = (await _outcome(client, world.gp, booked["id"], video=False)).json()["billing"]
    assert (billing_out["act_code"], billing_out["total"]) == ("G", "30.00")


def test_the_built_in_provider_makes_unique_unguessable_rooms_on_the_configured_base():
    provider = RoomOnBase("https://visio.cpts.example.fr/")
    rooms = {provider.create_room(None) for _ in range(50)}  # type: ignore[arg-type]
    assert len(rooms) == 50
    for room in rooms:
        assert room.startswith("https://visio.cpts.example.fr/pr-")
        assert len(room.rsplit("pr-", 1)[1]) >= 22  # 128 random bits, url-safe
    assert from_base_url("") is None


# --- 5. The weekly SNP ceiling counts under the titular --------------------------------------


async def test_the_snp_ceiling_counts_an_adjoints_snp_under_the_titular(app, client, world, db):
    """Plafond 1 : SNP du titulaire lundi 16:00, puis SAS chez son adjoint lundi 16:30 →
    pas de SNP (même compteur, au nom du titulaire)."""
    app.state.tariffs = dataclasses.replace(app.state.tariffs, snp_weekly_ceiling=1)
    _p, r1 = await new_request(client, world, db)
    first = await book_sas(app, db, r1, world.titular.id, local(world.today, 16))
    _p, r2 = await new_request(client, world, db)
    second = await book_sas(app, db, r2, world.adjoint.id, local(world.today, 16, 30))
    assert (await db.get(Appointment, first)).surcharges == ["SNP"]
    row = await db.get(Appointment, second)
    assert row.billed_under_id == world.titular.id
    assert "SNP" not in row.surcharges
    assert "plafond hebdomadaire" in row.billing_detail["reasons"]["SNP"]


async def test_the_gp_joins_the_video_in_one_tap_from_the_day_page(client, world, db):
    request_id = await _request(client, world, db)
    booked = await book(client, world, request_id, world.titular.id, local(world.today, 14))
    room = (await db.get(Appointment, booked["id"])).video_url
    await db.commit()
    await login_as(client, "dr.martin")
    page = await client.get("/medecin")
    assert page.status_code == 200
    assert (
        f'<a class="button" href="{room}" target="_blank" rel="noopener">Rejoindre la vidéo</a>'
        in (page.text)
    )


async def test_the_gp_records_a_call_without_video_from_the_day_page(client, world, db):
    request_id = await _request(client, world, db)
    booked = await book(client, world, request_id, world.titular.id, local(world.today, 14))
    token = await login_as(client, "dr.martin")
    page = await client.get("/medecin")
    assert "Appel sans vidéo" in page.text
    _CLOCK["now"].set(local(world.today, 14, 10))  # recorded after the start
    response = await client.post(
        f"/medecin/rendez-vous/{booked['id']}/issue",
        data={
            "csrf_token": token,
            "status": "fulfilled",
            "without_video": "true",
            "confirmed": "true",
        },
    )
    assert response.status_code == 303, response.text
    row = await db.scalar(select(VisitOutcome).where(VisitOutcome.appointment_id == booked["id"]))
    assert (row.video, row.act_code, row.total) == (False, None, "0")
