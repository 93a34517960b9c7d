"""Vu / Absent on the GP's page: the timing rule's reason before the time, a confirmation
step, a same-day « Annuler », and buttons a thumb can hit (issue 22, item 4 / GP view)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from app.appointments.models import Appointment
from tests.gp.helpers import book, local, new_request
from tests.gp.test_pages import _csrf, _login


def _form_of(html: str, appointment_id: int) -> str:
    start = html.index(f'id="rdv-{appointment_id}"')
    return html[start : html.index("</article>", start)]


async def test_buttons_are_disabled_with_the_reason_until_the_allowed_time(
    client, world, db, clock
):
    _p, r1 = await new_request(client, world, db, family_name="Petit", given_name="Anne")
    visit = await book(client, world, r1, world.titular.id, local(world.today, 10), "home_visit")
    await _login(client, "dr.martin")

    clock.set(local(world.today, 9, 30))
    card = _form_of((await client.get("/medecin")).text, visit["id"])
    assert re.search(r'value="fulfilled"\s+disabled', card)
    assert re.search(r'value="noshow" class="secondary"\s+disabled', card)
    assert "il ne peut pas être noté « vu » avant son début" in card
    assert "ne peut être noté absent qu&#39;à partir du" in card

    # From the start « Vu » is open, « Absent » still waits for the grace period.
    clock.set(local(world.today, 10, 5))
    card = _form_of((await client.get("/medecin")).text, visit["id"])
    assert not re.search(r'value="fulfilled"\s+disabled', card)
    assert re.search(r'value="noshow" class="secondary"\s+disabled', card)

    # Forcing the request before the time: the same rule answers, nothing recorded.
    clock.set(local(world.today, 9, 30))
    html = (await client.get("/medecin")).text
    response = await client.post(
        f"/medecin/rendez-vous/{visit['id']}/issue",
        data={"status": "noshow", "csrf_token": _csrf(html), "confirmed": "true"},
    )
    assert response.status_code == 409
    assert "noté absent qu&#39;à partir du" in response.text
    await db.commit()
    assert (await db.get(Appointment, visit["id"])).status == "booked"


async def test_a_tap_asks_for_confirmation_then_records_and_can_be_undone_the_same_day(
    client, world, db, clock
):
    _p, r1 = await new_request(client, world, db, family_name="Petit", given_name="Anne")
    visit = await book(client, world, r1, world.titular.id, local(world.today, 10), "home_visit")
    await _login(client, "dr.martin")
    clock.set(local(world.today, 10, 40))
    token = _csrf((await client.get("/medecin")).text)

    first = await client.post(
        f"/medecin/rendez-vous/{visit['id']}/issue",
        data={"status": "noshow", "csrf_token": token, "medecin_traitant_status": "none"},
    )
    assert first.status_code == 200
    assert "Confirmer : PETIT Anne absent" in first.text
    assert "médecin traitant : non, aucun" in first.text
    assert 'name="confirmed" value="true"' in first.text
    await db.commit()
    assert (await db.get(Appointment, visit["id"])).status == "booked"  # not yet

    done = await client.post(
        f"/medecin/rendez-vous/{visit['id']}/issue",
        data={"status": "noshow", "csrf_token": token, "confirmed": "true"},
    )
    assert done.status_code == 303
    await db.commit()
    row = await db.get(Appointment, visit["id"])
    await db.refresh(row)
    assert row.status == "noshow"
    html = (await client.get(done.headers["location"])).text
    assert "Issue enregistrée." in html and "Annuler « absent »" in html

    undone = await client.post(
        f"/medecin/rendez-vous/{visit['id']}/annuler-issue", data={"csrf_token": token}
    )
    assert undone.status_code == 303
    await db.commit()
    await db.refresh(row)
    assert row.status == "booked"
    html = (await client.get(undone.headers["location"])).text
    assert "de nouveau à faire" in html

    # The next day the undo is refused by the same-day rule, in French.
    await client.post(
        f"/medecin/rendez-vous/{visit['id']}/issue",
        data={"status": "fulfilled", "csrf_token": token, "confirmed": "true"},
    )
    clock.set(local(world.today + dt.timedelta(days=1), 9))
    late = await client.post(
        f"/medecin/rendez-vous/{visit['id']}/annuler-issue",
        data={"csrf_token": token, "date": world.today.isoformat()},
    )
    assert late.status_code == 409
    assert "le jour même" in late.text
    await db.commit()
    await db.refresh(row)
    assert row.status == "fulfilled"


def test_outcome_buttons_are_44px_and_stack_on_a_phone():
    css = (Path(__file__).resolve().parents[2] / "app/web/static/gp-day.css").read_text()
    assert re.search(r"\.outcome button[^{]*\{[^}]*min-height: 44px", css)
    assert "@media (max-width: 480px)" in css
