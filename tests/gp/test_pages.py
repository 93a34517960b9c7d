"""The GP's day on the phone: next stop first, call, map, record the outcome (CSRF)."""

from __future__ import annotations

import re

from app.appointments.models import Appointment
from tests.factories import PASSWORD
from tests.gp.helpers import book, local, new_request


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


async def _login(client, username: str) -> None:
    token = _csrf((await client.get("/login")).text)
    response = await client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303 and response.headers["location"] == "/medecin"


async def test_the_day_page_puts_the_next_stop_first_and_records_an_outcome(
    client, world, db, clock
):
    _p, r1 = await new_request(
        client, world, db, family_name="Petit", given_name="Anne", phone="+33639980031"
    )
    early = await book(
        client, world, r1, world.titular.id, local(world.today, 10), kind="home_visit"
    )
    _p, r2 = await new_request(
        client, world, db, family_name="Roux", given_name="Marc", phone="+33639980032"
    )
    later = await book(
        client, world, r2, world.titular.id, local(world.today, 11), kind="home_visit"
    )

    assert (await client.get("/medecin")).status_code == 303  # log in first
    await _login(client, "dr.martin")
    page = await client.get("/medecin")
    assert page.status_code == 200
    html = page.text
    assert 'name="viewport"' in html
    assert html.index("Prochain arrêt") < html.index("PETIT Anne") < html.index("ROUX Marc")
    assert 'href="tel:+33639980031"' in html
    assert 'href="geo:' in html and "openstreetmap.org" in html

    clock.set(local(world.today, 10, 40))
    token = _csrf(html)
    response = await client.post(
        f"/medecin/rendez-vous/{early['id']}/issue",
        data={
            "status": "fulfilled",
            "csrf_token": token,
            "wants_medecin_traitant_help": "true",
            "confirmed": "true",
        },
    )
    assert response.status_code == 303, response.text
    row = await db.get(Appointment, early["id"])
    assert row.status == "fulfilled" and row.act_code == "VG"
    html = (await client.get(response.headers["location"])).text
    # Now the next stop is the second patient; the first is under "Déjà fait".
    assert html.index("Prochain arrêt") < html.index("ROUX Marc") < html.index("Déjà fait")
    assert html.index("Déjà fait") < html.index("PETIT Anne")

    # Without the CSRF token: refused, nothing recorded.
    response = await client.post(
        f"/medecin/rendez-vous/{later['id']}/issue", data={"status": "noshow"}
    )
    assert response.status_code == 403
    await db.commit()
    assert (await db.get(Appointment, later["id"])).status == "booked"


async def test_an_adjoint_sees_their_titular_on_the_day_page(client, world):
    await _login(client, "dr.garnier")
    html = (await client.get("/medecin")).text
    assert "Vous travaillez avec Dr Claire Martin" in html
    assert "10:00–13:00" in html


async def test_the_day_page_is_for_gps(client, world, db):
    from app.accounts.models import Role
    from tests.factories import make_user

    await make_user(db, "secretaire2", Role.secretary)
    token = _csrf((await client.get("/login")).text)
    await client.post(
        "/login", data={"username": "secretaire2", "password": PASSWORD, "csrf_token": token}
    )
    assert (await client.get("/medecin")).status_code == 403
