"""Issue 22 in a real Chromium: one call, one screen, no dead end, guards, keyboard only."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest

from app.core.timeutil import PARIS
from tests.web.server import NOW, LiveServer, live_server
from tests.web.test_browser import ARGS, CHROMIUM, db_rows, log_in, new_patient, shot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with live_server() as running:
        yield running


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
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="fr-FR")
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()
    server.clock.set(NOW)


def _patient_id(page) -> int:
    match = re.search(r"patient_id=(\d+)", page.url)
    assert match, page.url
    return int(match.group(1))


def _submit_request(page) -> int:
    page.get_by_role("button", name="Enregistrer et voir les propositions").click()
    page.wait_for_url(re.compile(r"/demandes/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def test_a_name_alone_with_a_typo_finds_the_patient(page, server):
    log_in(page, server, "secretaire")
    new_patient(page, server, "Lefebvre", "Marcel", "1958-06-02", "06 39 98 00 51")
    page.goto(f"{server.base_url}/demandes/nouvelle")
    page.get_by_label("Nom (ou début du nom)").fill("Lefebre")
    page.get_by_label("Nom (ou début du nom)").press("Enter")
    page.get_by_role("heading", name=re.compile("Résultats")).wait_for()
    row = page.locator("table tbody tr").filter(has_text="LEFEBVRE Marcel")
    assert row.count() == 1 and "06 39 98 00 51" in row.inner_text()
    shot(page, "22-recherche-faute-de-frappe")


def test_home_visit_over_80_at_16h_offers_every_way_out(page, server):
    server.clock.set(dt.datetime(2026, 12, 7, 16, 0, tzinfo=PARIS))
    log_in(page, server, "secretaire")
    new_patient(
        page, server, "Roussel", "Odette", "1938-02-11", "06 39 98 00 52", "Mobilité réduite"
    )
    # The urgency the age rule forces is shown before submit.
    assert page.get_by_label("Urgence").input_value() == "same_day"
    assert page.locator("#urgency-forced").is_visible()
    page.get_by_label("Motif de l'appel").fill("Fièvre, ne peut pas se déplacer")
    page.get_by_label("Ne peut pas se déplacer (visite à domicile)").check()
    shot(page, "22b-urgence-imposee")
    request_id = _submit_request(page)
    outcomes = page.locator("#other-outcomes")
    assert "Aucune option ne convient" in outcomes.inner_text()
    assert "Motif de dérogation" in page.locator("table.proposals").inner_text()
    shot(page, "23-aucune-impasse")

    outcomes.get_by_label("Motif (500 caractères au plus)").last.fill(
        "Aucun médecin avant ce soir, rappel du 116 117 conseillé"
    )
    outcomes.get_by_role("button", name="Clore comme non pourvue").click()
    page.wait_for_url(re.compile(rf"/demandes/{request_id}$"))
    assert "non pourvue" in page.locator("#unfilled").inner_text()
    shot(page, "24-non-pourvue")
    ((status, note),) = db_rows(
        server, "SELECT status, status_note FROM care_requests WHERE id = :rid", rid=request_id
    )
    assert status == "unfilled" and "116 117" in note
    page.goto(server.base_url)
    assert f"/demandes/{request_id}" not in page.content()  # nothing left pending


def test_the_same_patient_twice_at_the_same_time_asks_for_confirmation(page, server):
    log_in(page, server, "secretaire")
    new_patient(page, server, "Fontaine", "Hugo", "1990-04-04", "06 39 98 00 53")
    patient_id = _patient_id(page)
    page.get_by_label("Motif de l'appel").fill("Angine")
    _submit_request(page)
    first = page.locator("table.proposals tbody tr").first
    first_time = first.locator("input[name=start_at]").get_attribute("value")
    same_row = f"table.proposals tbody tr:has(input[name=start_at][value='{first_time}'])"
    page.locator("#book-first").click()
    page.wait_for_url(re.compile(r"/rendez-vous/\d+"))

    page.goto(f"{server.base_url}/demandes/nouvelle?patient_id={patient_id}")
    page.get_by_label("Motif de l'appel").fill("Angine, rappel")
    _submit_request(page)
    assert "déjà un rendez-vous" in page.locator("#same-day-warning").inner_text()
    same = page.locator(same_row).first
    same.get_by_role("button", name="Réserver").click()
    page.locator(".field-error").first.wait_for()
    assert "Ce patient a déjà un rendez-vous" in page.content()
    shot(page, "25-meme-patient-meme-heure")
    same = page.locator(same_row).first
    same.get_by_label(re.compile("Réserver quand même")).check()
    same.get_by_role("button", name="Réserver").click()
    page.wait_for_url(re.compile(r"/rendez-vous/\d+"))
    rows = db_rows(
        server,
        "SELECT count(*) FROM appointments WHERE patient_id = :pid AND status = 'booked'",
        pid=patient_id,
    )
    assert rows[0][0] == 2


def test_reloading_the_15_result_records_one_request(page, server):
    log_in(page, server, "secretaire")
    new_patient(page, server, "Marchand", "Rose", "1975-09-09", "06 39 98 00 54")
    patient_id = _patient_id(page)
    page.get_by_label("Motif de l'appel").fill("Douleur dans la poitrine")
    page.get_by_label("Douleur thoracique").check()
    assert "enregistrez la réorientation" in page.locator("#alert-15").inner_text()
    page.get_by_role("button", name="Enregistrer l'orientation vers le 15").click()
    page.get_by_role("heading", name="Orienter vers le 15").wait_for()
    page.reload()  # F5
    page.get_by_role("heading", name="Orienter vers le 15").wait_for()
    assert "— , —" not in page.content()
    shot(page, "26-oriente-15-apres-f5")
    rows = db_rows(
        server, "SELECT count(*) FROM care_requests WHERE patient_id = :pid", pid=patient_id
    )
    assert rows[0][0] == 1


def _tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching ``selector`` has the focus (keyboard only)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return
    raise AssertionError(f"{selector} never reached with Tab")


def test_keyboard_only_from_intake_to_booking(page, server):
    log_in(page, server, "secretaire")
    new_patient(page, server, "Clavier", "Théo", "1985-01-20", "06 39 98 00 55")
    page.goto(server.base_url)
    # From here on, only the keyboard.
    _tab_to(page, "a[href='/demandes/nouvelle']")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/demandes/nouvelle$"))
    page.keyboard.type("Clavier")  # the search field has the focus
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=re.compile("Résultats")).wait_for()
    _tab_to(page, "table a.button")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"patient_id=\d+"))
    page.keyboard.type("Otite depuis hier")  # the reason has the focus
    _tab_to(page, "#btn-propose")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/demandes/\d+$"))
    _tab_to(page, "#book-first")
    shot(page, "27-clavier-propositions")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/rendez-vous/\d+"))
    assert "Rendez-vous réservé" in page.locator("#flash").inner_text()
    shot(page, "28-clavier-reserve")
