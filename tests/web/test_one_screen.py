"""One call, one screen (issue 22, item 2): the search, triage and request views are one page.

Each step renders the same shared panels (caller, search, triage, request), the caller's
number follows the call from form to redirect, and the old URLs keep working.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.factories import make_patient
from tests.web.conftest import login_as

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "web" / "templates" / "web"
CALLER = "+33639980077"


def _panels(html: str) -> set[str]:
    found = set(re.findall(r'id="(caller|h-search|h-create|panel-triage|panel-request)"', html))
    if 'id="other-outcomes"' in html:
        found.add("other-outcomes")
    return found


def _booking_forms(html: str) -> list[dict[str, str]]:
    found = re.findall(
        r'<form method="post" action="/demandes/\d+/reserver">(.*?)</form>', html, re.S
    )
    return [dict(re.findall(r'name="(\w+)" value="([^"]*)"', f)) for f in found]


async def test_search_triage_and_request_render_the_same_panels(client, db, world):
    token = await login_as(client, "secretaire")
    patient = await make_patient(db, family_name="Lefebvre", given_name="Marcel", phone=None)

    # 1. Opened from the calls panel: the number is the caller's, searched once.
    search = await client.get(f"/demandes/nouvelle?telephone={CALLER.replace('+', '%2B')}")
    assert search.status_code == 200
    assert _panels(search.text) == {"caller", "h-search", "h-create"}
    assert "Appel du <strong>06 39 98 00 77</strong>" in search.text
    assert "Résultats (0)" in search.text  # the number found no record
    assert '<input type="hidden" name="appel" value="+33639980077">' in search.text
    assert 'id="telephone" name="telephone" type="tel" value=""' in search.text
    assert 'id="phone" name="phone" type="tel" value="06 39 98 00 77"' in search.text  # prefilled

    # A name with a typo, the call carried by the search form.
    found = await client.get("/demandes/nouvelle?nom=Lefebre&appel=%2B33639980077")
    assert "LEFEBVRE Marcel" in found.text and "06 39 98 00 77" in found.text
    choose = re.search(r'href="(/demandes/nouvelle\?patient_id=\d+[^"]*)"', found.text)
    assert choose is not None
    choose_url = choose.group(1).replace("&amp;", "&")
    assert "nom=Lefebre" in choose_url and "appel=%2B33639980077" in choose_url

    # 2. The patient chosen: the search and its results stay, the triage opens beside them.
    triage = await client.get(choose_url)
    assert _panels(triage.text) == {"caller", "h-search", "panel-triage"}
    assert 'class="chosen"' in triage.text and 'id="caller-patient"' in triage.text
    assert 'form method="post" action="/demandes" id="intake"' in triage.text
    assert triage.text.count('name="appel" value="+33639980077"') == 2  # search + triage

    # 3. Recorded (post/redirect/get): the same screen with the request panel.
    created = await client.post(
        "/demandes",
        data={
            "csrf_token": token,
            "patient_id": str(patient.id),
            "reason": "Angine",
            "appel": CALLER,
        },
    )
    assert created.status_code == 303
    location = created.headers["location"]
    assert re.fullmatch(r"/demandes/\d+\?appel=%2B33639980077", location)
    page = await client.get(location)
    assert _panels(page.text) == {
        "caller",
        "h-search",
        "panel-triage",
        "panel-request",
        "other-outcomes",
    }
    assert 'id="triage-summary"' in page.text and "Angine" in page.text
    assert "Choisir dans l'agenda" in page.text and 'id="h-waitlist"' in page.text
    for action in ("reserver", "revoir", "orienter", "non-pourvue"):
        assert f'action="{location.split("?")[0]}/{action}"' in page.text

    # Booked during the call: the confirmation stays on the call screen.
    option = _booking_forms(page.text)[0]
    assert option["appel"] == CALLER
    booked = await client.post(
        location.split("?")[0] + "/reserver", data={**option, "csrf_token": token}
    )
    assert booked.status_code == 303
    assert re.fullmatch(
        r"/demandes/\d+\?reserve=\d+&appel=%2B33639980077", booked.headers["location"]
    )
    done = await client.get(booked.headers["location"])
    assert 'id="booked"' in done.text and "Rendez-vous réservé" in done.text
    assert "Appel du <strong>06 39 98 00 77</strong>" in done.text


async def test_without_a_call_the_old_urls_and_redirects_are_unchanged(client, db, world):
    token = await login_as(client, "secretaire")
    patient = await make_patient(db)
    form = await client.get(f"/demandes/nouvelle?patient_id={patient.id}")
    assert 'id="caller"' in form.text and "Numéro de l'appelant non transmis" in form.text
    assert 'name="appel"' not in form.text
    created = await client.post(
        "/demandes", data={"csrf_token": token, "patient_id": str(patient.id), "reason": "Toux"}
    )
    assert re.fullmatch(r"/demandes/\d+", created.headers["location"])
    option = _booking_forms((await client.get(created.headers["location"])).text)[0]
    booked = await client.post(
        created.headers["location"] + "/reserver", data={**option, "csrf_token": token}
    )
    assert re.fullmatch(r"/rendez-vous/\d+\?reserve=1", booked.headers["location"])
    # A reserve id that is not this request's appointment shows no confirmation.
    other = await client.get(created.headers["location"] + "?reserve=999999")
    assert other.status_code == 200 and 'id="booked"' not in other.text
    bad = await client.get(created.headers["location"] + "?reserve=abc")
    assert bad.status_code < 500


async def test_a_way_out_keeps_the_call_on_screen(client, db, world):
    token = await login_as(client, "secretaire")
    patient = await make_patient(db)
    created = await client.post(
        "/demandes",
        data={
            "csrf_token": token,
            "patient_id": str(patient.id),
            "reason": "Toux",
            "appel": CALLER,
        },
    )
    url = created.headers["location"].split("?")[0]
    refused = await client.post(
        url + "/non-pourvue", data={"csrf_token": token, "unfilled_reason": "", "appel": CALLER}
    )
    assert refused.status_code == 422 and "06 39 98 00 77" in refused.text
    closed = await client.post(
        url + "/non-pourvue",
        data={"csrf_token": token, "unfilled_reason": "Rappellera", "appel": CALLER},
    )
    assert closed.headers["location"] == f"{url}?appel=%2B33639980077"
    page = await client.get(closed.headers["location"])
    assert 'id="unfilled"' in page.text and 'id="caller"' in page.text


def test_the_panels_are_written_once():
    """The three steps are one template of shared partials: no page of their own left."""
    for gone in ("intake_search.html", "intake_request.html", "request.html"):
        assert not (TEMPLATES / gone).exists(), gone
    screen = (TEMPLATES / "one_call.html").read_text()
    for partial in (
        "_intake_caller.html",
        "_intake_search_panel.html",
        "_intake_create_panel.html",
        "_intake_triage_panel.html",
        "_request_panel.html",
    ):
        assert f'{{% include "web/{partial}" %}}' in screen, partial
