"""The regulator's page: slots by day and time of day, the first free ones held for the
regulator looking (two regulators get different first slots), French messages, a
confirmation naming the patient and the slot, French statuses on /sas (issue 22, item 6;
issue 21, holds on the SAS page)."""

from __future__ import annotations

import datetime as dt
import re

import httpx
from sqlalchemy import select

from app.appointments.models import Appointment
from app.core.timeutil import PARIS
from app.rounds.models import ProposalHold
from tests.sas.test_regulator_booking import PATIENT, _arrive_from_sas
from tests.sas.world import csrf_of, regulator, sas_gp, slot_values


def _enabled(html: str) -> list[str]:
    return re.findall(r'name="slot" value="([^"]+)"\s+(?:checked)?\s*>', html)


def _first(html: str) -> list[str]:
    block = html[html.index("Premiers créneaux libres") : html.index("</fieldset>")]
    return slot_values(block)


async def test_slots_are_grouped_by_day_and_time_of_day_first_free_first(client, db, clock):
    today = clock().astimezone(PARIS).date()
    gp = await sas_gp(db, today)
    user = await regulator(db)
    html = await _arrive_from_sas(client, gp.id, user.username)
    first = _first(html)
    every = slot_values(html)
    assert len(first) == 3 and first == sorted(every, key=lambda v: v.split("|")[1])[:3]
    assert len(every) == len(set(every))  # each slot once: first ones, then the others
    assert "Autres créneaux, par jour" in html
    assert re.search(r"<summary>(lundi|mardi|mercredi|jeudi|vendredi|samedi) \d+ \w+", html)
    assert "<h3>Après-midi</h3>" in html and "<h3>Soir</h3>" in html  # 14:00–20:00 sessions
    # No browser message: the form is validated on the server, in French.
    assert re.search(
        r'<form method="post" action="/sas/praticiens/\d+/reserver"[^>]*novalidate', html
    )
    response = await client.post(
        f"/sas/praticiens/{gp.id}/reserver", data={**PATIENT, "csrf_token": csrf_of(html)}
    )
    assert response.status_code == 422
    assert "Choisissez un créneau avant de réserver." in response.text
    assert 'value="Lemoine"' in response.text  # what was typed is kept


async def test_two_regulators_get_different_first_slots_and_booking_a_held_one_works(
    app, client, db, clock
):
    today = clock().astimezone(PARIS).date()
    gp = await sas_gp(db, today)
    alice = await regulator(db)
    bruno = await regulator(db, "regul.bruno", national_id="810000000042")
    ids = {"alice": alice.id, "bruno": bruno.id}
    gp_id = gp.id
    page_a = await _arrive_from_sas(client, gp.id, alice.username)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as other:
        page_b = await _arrive_from_sas(other, gp.id, bruno.username)
        first_a, first_b = _first(page_a), _first(page_b)
        assert len(first_a) == 3 and len(first_b) == 3
        assert not set(first_a) & set(first_b)
        # Bruno sees Alice's held slots, greyed out and not selectable.
        assert "proposé à un autre régulateur" in page_b
        assert not set(first_a) & set(_enabled(page_b))
        holds = (await db.execute(select(ProposalHold.regulator_id, ProposalHold.request_id))).all()
        await db.rollback()
        assert sorted(holds) == sorted([(ids["alice"], None)] * 3 + [(ids["bruno"], None)] * 3)

        # Alice books her first (held) slot: never refused because of a hold.
        booked = await client.post(
            f"/sas/praticiens/{gp_id}/reserver",
            data={**PATIENT, "slot": first_a[0], "csrf_token": csrf_of(page_a)},
        )
        assert booked.status_code == 303, booked.text
        # Bruno books one of his own held slots too.
        booked_b = await other.post(
            f"/sas/praticiens/{gp_id}/reserver",
            data={
                **PATIENT,
                "family_name": "Martin",
                "slot": first_b[0],
                "csrf_token": csrf_of(page_b),
            },
        )
        assert booked_b.status_code == 303, booked_b.text
    rows = (await db.scalars(select(Appointment.id))).all()
    left = (await db.scalars(select(ProposalHold.id))).all()
    await db.rollback()
    assert len(rows) == 2
    assert left == []  # both released their holds by booking


async def test_holds_expire_by_themselves(app, client, db, clock):
    today = clock().astimezone(PARIS).date()
    gp = await sas_gp(db, today)
    alice = await regulator(db)
    bruno = await regulator(db, "regul.bruno", national_id="810000000042")
    first_a = _first(await _arrive_from_sas(client, gp.id, alice.username))
    clock.set(clock() + dt.timedelta(seconds=app.state.rounds_settings.proposal_hold_seconds + 1))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as other:
        first_b = _first(await _arrive_from_sas(other, gp.id, bruno.username))
    assert first_b[0] == first_a[0]


async def test_the_confirmation_names_the_patient_and_slot_and_sas_shows_french_statuses(
    client, db, clock
):
    today = clock().astimezone(PARIS).date()
    gp = await sas_gp(db, today)
    user = await regulator(db)
    html = await _arrive_from_sas(client, gp.id, user.username)
    slot = _first(html)[0]
    response = await client.post(
        f"/sas/praticiens/{gp.id}/reserver",
        data={**PATIENT, "slot": slot, "csrf_token": csrf_of(html)},
    )
    assert response.status_code == 303
    page = (await client.get(response.headers["location"])).text
    start = dt.datetime.fromisoformat(slot.split("|")[1]).astimezone(PARIS)
    assert "Rendez-vous réservé" in page
    assert "LEMOINE Rose (né(e) le 12/04/1985)" in page
    assert f"à {start:%H:%M}" in page and "téléconsultation avec Dr" in page
    home = (await client.get("/sas")).text
    assert ">réservé</span>" in home and ">booked<" not in home
