"""One call, one screen (issue 22, item 2) in a real Chromium, at 1280 px and 375 px.

From the calls panel to the booking confirmation the URL stays under /demandes and the
caller panel (number, then patient) stays on screen; the search, triage and request panels
are the same page's panels, not three pages.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.telephony.signing import SIGNATURE_HEADER, sign
from tests.web.server import NOW, LiveServer, live_server
from tests.web.test_browser import ARGS, ARTIFACTS, CHROMIUM, db_rows, log_in, new_patient

pytestmark = pytest.mark.browser

TOKEN = "one-screen-webhook-token"
CALLER = "+33639980077"  # no patient has this number: the calls panel offers "inconnu — créer"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    # The webhook token is read when the server's settings are built, then put back.
    saved = os.environ.get("TWILIO_AUTH_TOKEN")
    os.environ["TWILIO_AUTH_TOKEN"] = TOKEN
    try:
        with live_server() as running:
            if saved is None:
                os.environ.pop("TWILIO_AUTH_TOKEN", None)
            else:
                os.environ["TWILIO_AUTH_TOKEN"] = saved
            yield running
    finally:
        if saved is not None:
            os.environ["TWILIO_AUTH_TOKEN"] = saved


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    server.clock.set(NOW)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR")
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


def _incoming_call(server: LiveServer, number: str) -> None:
    """The public line rings: Twilio's signed webhook, as the real one would send it."""
    params = {"CallSid": "CAonescreen0001", "From": number, "To": "+33180000000"}
    params["CallStatus"] = "ringing"
    public = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    signature = sign(TOKEN, f"{public}/telephony/voice", params)
    answer = httpx.post(
        f"{server.base_url}/telephony/voice", data=params, headers={SIGNATURE_HEADER: signature}
    )
    assert answer.status_code == 200, answer.text


# Elements of the call screen that stick out of the window (a horizontal scroll to read them).
WIDER_THAN_SCREEN = """
[...document.querySelectorAll('main *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.scroll-x'))
  .slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)
"""


def _step(page, name: str, caller_text: str) -> None:
    """At every step: still under /demandes, the caller panel on screen; shots at 1280 and 375."""
    assert urlsplit(page.url).path.startswith("/demandes"), page.url
    caller = page.locator("#caller")
    assert caller_text in caller.inner_text()
    assert page.locator("#h-search").is_visible()  # the search panel stays too
    for width, height in ((1280, 800), (375, 740)):
        page.set_viewport_size({"width": width, "height": height})
        # What the secretary sees: the page scrolled to where the focus is.
        page.evaluate("document.activeElement.scrollIntoView({block: 'center'})")
        box = caller.bounding_box()
        assert box is not None and 0 <= box["y"] < height, (width, box)  # in view, not scrolled off
        wide = page.evaluate(WIDER_THAN_SCREEN)
        assert not wide, f"{name}: wider than the screen at {width} px: {wide}"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"))
    page.set_viewport_size({"width": 1280, "height": 800})


def _focused(page) -> str:
    return page.evaluate("document.activeElement ? document.activeElement.id : ''")


def test_one_call_from_the_calls_panel_to_the_booking_on_one_screen(page, server):
    log_in(page, server, "secretaire")
    new_patient(page, server, "Lefebvre", "Jeanne", "1970-05-04", "06 39 98 00 61")
    _incoming_call(server, CALLER)

    page.goto(server.base_url)
    page.locator("#live-calls").get_by_role("link", name="inconnu — créer").click()
    page.wait_for_url(re.compile(r"/demandes/nouvelle\?telephone="))
    assert page.locator("#caller-number").inner_text() == "Appel du 06 39 98 00 77"
    assert page.locator("#h-results").inner_text() == "Résultats (0)"
    assert page.get_by_label("Téléphone").first.input_value() == ""  # free for another search
    assert _focused(page) == "nom"
    _step(page, "one-screen-1-appel", "06 39 98 00 77")

    page.get_by_label("Nom (ou début du nom)").fill("Lefebre")  # a typo
    page.get_by_label("Nom (ou début du nom)").press("Enter")
    page.wait_for_url(re.compile(r"nom=Lefebre"))
    assert "appel=" in page.url
    row = page.locator("table.results tbody tr").filter(has_text="LEFEBVRE Jeanne")
    assert row.count() == 1
    assert _focused(page) == "search-results"  # the results take the focus
    _step(page, "one-screen-2-recherche", "06 39 98 00 77")

    row.get_by_role("link", name=re.compile("Choisir")).click()
    page.wait_for_url(re.compile(r"patient_id=\d+"))
    assert "LEFEBVRE Jeanne" in page.locator("#caller-patient").inner_text()
    chosen = page.locator("table.results tr.chosen")  # the search is still there
    assert chosen.count() == 1 and "Choisi" in chosen.inner_text()
    assert _focused(page) == "reason"  # the triage panel takes the focus
    _step(page, "one-screen-3-triage", "LEFEBVRE Jeanne")

    page.get_by_label("Motif de l'appel").fill("Angine depuis hier")
    page.get_by_role("button", name="Enregistrer et voir les propositions").click()
    page.wait_for_url(re.compile(r"/demandes/\d+\?appel="))
    page.get_by_role("heading", name="Meilleures propositions").wait_for()
    assert "Angine depuis hier" in page.locator("#triage-summary").inner_text()
    assert page.locator("table.proposals tbody tr").count() >= 2
    assert page.locator("table.proposals small.muted").count() >= 1  # each with its why
    for way_out in ("#form-reconsider", "#form-orient", "#form-unfilled", "#h-waitlist"):
        assert page.locator(way_out).count() == 1, way_out
    assert page.get_by_role("link", name="Choisir dans l'agenda").count() == 1
    assert _focused(page) == "panel-request"
    _step(page, "one-screen-4-propositions", "06 39 98 00 77")

    page.locator("#book-first").click()
    page.wait_for_url(re.compile(r"/demandes/\d+\?reserve=\d+&appel="))
    assert "Rendez-vous réservé" in page.locator("#booked").inner_text()
    assert "LEFEBVRE Jeanne" in page.locator("#caller-patient").inner_text()
    assert _focused(page) == "booked"
    _step(page, "one-screen-5-confirmation", "06 39 98 00 77")
    ((status,),) = db_rows(
        server,
        "SELECT a.status FROM appointments a JOIN patients p ON p.id = a.patient_id "
        "WHERE p.family_name = 'Lefebvre'",
    )
    assert status == "booked"

    page.get_by_role("link", name=re.compile("Voir le rendez-vous")).click()
    page.wait_for_url(re.compile(r"/rendez-vous/\d+\?reserve=1"))
    assert "LEFEBVRE Jeanne" in page.locator("#confirmation").inner_text()


def test_the_one_call_screen_works_without_javascript(browser, server):
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="fr-FR", java_script_enabled=False
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        log_in(page, server, "secretaire")
        new_patient(page, server, "Sansscript", "Paul", "1980-02-03", "06 39 98 00 62")
        page.goto(f"{server.base_url}/demandes/nouvelle?telephone=%2B33639980078")
        page.get_by_label("Nom (ou début du nom)").fill("Sansscript")
        page.get_by_role("button", name="Rechercher").click()
        page.wait_for_url(re.compile(r"nom=Sansscript"))
        page.locator("table.results").get_by_role("link", name=re.compile("Choisir")).first.click()
        page.wait_for_url(re.compile(r"patient_id=\d+"))
        page.get_by_label("Motif de l'appel").fill("Otite")
        page.get_by_role("button", name="Enregistrer et voir les propositions").click()
        page.wait_for_url(re.compile(r"/demandes/\d+\?appel="))
        page.locator("#book-first").click()
        page.wait_for_url(re.compile(r"/demandes/\d+\?reserve=\d+&appel="))
        assert "Rendez-vous réservé" in page.locator("#booked").inner_text()
        assert "06 39 98 00 78" in page.locator("#caller").inner_text()
    finally:
        context.close()
