"""The secretariat in a real Chromium against the real server (demo territory, fresh database)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.server import LiveServer, live_server, query, run_async

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--lang=fr-FR",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with live_server() as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="fr-FR")
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page, server: LiveServer, username: str) -> None:
    page.goto(f"{server.base_url}/login")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill("demo")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


def new_patient(
    page, server: LiveServer, family: str, given: str, birth: str, phone: str, *flags: str
) -> None:
    page.goto(f"{server.base_url}/demandes/nouvelle")
    form = page.locator("form[action='/patients/nouveau']")
    form.get_by_label("Nom", exact=True).fill(family)
    form.get_by_label("Prénom").fill(given)
    form.get_by_label("Date de naissance").fill(birth)
    form.get_by_label("Téléphone").fill(phone)
    form.get_by_label("Adresse").fill("3 rue de la Démonstration")
    form.get_by_label("Commune").select_option("Cachan")
    form.get_by_label("Accepte de recevoir des SMS").check()
    for flag in flags:
        form.get_by_label(flag).check()
    form.get_by_role("button", name="Créer le patient et continuer").click()
    page.wait_for_url(re.compile(r"/demandes/nouvelle\?patient_id=\d+"))


def db_rows(server: LiveServer, sql: str, **params):
    return run_async(query(server.database_url, sql, **params))


def test_secretary_takes_a_request_books_the_first_proposal_and_sees_it_in_the_agenda(page, server):
    log_in(page, server, "secretaire")
    assert page.url.rstrip("/") == server.base_url
    page.get_by_role("heading", name=re.compile("Tableau de bord")).wait_for()
    shot(page, "01-tableau-de-bord")

    new_patient(page, server, "Lefebvre", "Paul", "1961-03-02", "06 39 98 00 42")
    page.get_by_label("Motif de l'appel").fill("Toux et fièvre depuis deux jours")
    page.get_by_label("Depuis quand ?").fill("samedi")
    page.get_by_label("Médecin traitant").select_option("none")
    shot(page, "02-nouvelle-demande")
    page.get_by_role("button", name="Enregistrer et voir les propositions").click()
    page.wait_for_url(re.compile(r"/demandes/\d+$"))
    page.get_by_role("heading", name="Meilleures propositions").wait_for()
    first = page.locator("table.proposals tbody tr").first
    doctor = first.locator("td").first.inner_text().split("\n")[0].strip()
    shot(page, "03-propositions")

    page.locator("#book-first").click()
    page.wait_for_url(re.compile(r"/rendez-vous/\d+"))
    assert "Rendez-vous réservé" in page.locator("#flash").inner_text()
    confirmation = page.locator("#confirmation").inner_text()
    assert "LEFEBVRE Paul" in confirmation and "Téléconsultation" in confirmation
    sms = page.locator("#sms-status").inner_text()
    assert "RDV confirmé" in sms and "06 39 98 00 42" in sms  # queued; phone read as 06…
    shot(page, "04-confirmation")

    page.get_by_role("link", name="Voir dans l'agenda").click()
    page.wait_for_url(re.compile(r"/agenda\?"))
    assert "LEFEBVRE Paul" in page.locator("article.appt").first.inner_text()
    assert doctor.replace("Dr ", "") in page.locator(".agenda-col h2").first.inner_text()
    shot(page, "05-agenda-jour-medecin")

    page.goto(f"{server.base_url}/agenda")
    shot(page, "06-agenda-jour-equipe")
    page.goto(f"{server.base_url}/agenda?vue=semaine")
    assert page.locator("table.week tbody tr").count() == 11
    shot(page, "07-agenda-semaine")

    page.get_by_role("link", name="Tableau de bord").click()
    page.get_by_role("link", name="LEFEBVRE Paul").count()  # no longer waiting: booked
    patient_id = db_rows(server, "SELECT id FROM patients WHERE family_name = 'Lefebvre'")[0][0]
    page.goto(f"{server.base_url}/patients/{patient_id}")
    assert "Toux et fièvre" in page.locator("#h-req + table").inner_text()
    shot(page, "08-fiche-patient")
    (status,) = db_rows(
        server,
        "SELECT a.status FROM appointments a JOIN patients p ON p.id = a.patient_id "
        "WHERE p.family_name = 'Lefebvre'",
    )
    assert status[0] == "booked"


def test_a_home_visit_joins_a_round_drawn_on_the_agenda(page, server):
    log_in(page, server, "secretaire")
    new_patient(
        page, server, "Girard", "Louise", "1948-11-20", "06 39 98 00 44", "Mobilité réduite"
    )
    assert "visite à domicile" in page.locator("#modality-suggestion").inner_text()
    page.get_by_label("Motif de l'appel").fill("Plaie à la jambe à surveiller")
    page.get_by_role("button", name="Enregistrer et voir les propositions").click()
    page.get_by_role("columnheader", name="Fenêtre d'arrivée").wait_for()
    assert "min" in page.locator("table.proposals tbody tr").first.inner_text()
    page.locator("#book-first").click()
    page.wait_for_url(re.compile(r"/rendez-vous/\d+"))
    assert "arrivée entre" in page.locator("#confirmation").inner_text()
    page.get_by_role("link", name="Voir dans l'agenda").click()
    page.wait_for_url(re.compile(r"/agenda\?"))
    stops = page.locator("ol.stops li")
    assert stops.count() == 1 and "GIRARD Louise" in stops.first.inner_text()
    assert "fenêtre" in stops.first.inner_text()
    assert page.locator("svg.round-map circle").count() == 1
    shot(page, "15-tournee-carte")


def test_a_red_flag_blocks_booking_and_records_the_redirection_to_the_15(page, server):
    log_in(page, server, "secretaire")
    new_patient(page, server, "Mercier", "Anne", "1972-08-14", "06 39 98 00 43")
    page.get_by_label("Motif de l'appel").fill("Douleur dans la poitrine")
    propose = page.get_by_role("button", name="Enregistrer et voir les propositions")
    assert propose.is_enabled() and page.locator("#alert-15").is_hidden()

    page.get_by_label("Douleur thoracique").check()
    assert page.locator("#alert-15").is_visible()
    assert "Orienter vers le 15" in page.locator("#alert-15").inner_text()
    assert propose.is_disabled()
    shot(page, "09-signe-alerte")

    page.get_by_role("button", name="Enregistrer l'orientation vers le 15").click()
    page.get_by_role("heading", name="Orienter vers le 15").wait_for()
    assert "réorientée vers le 15" in page.locator("#request-status").inner_text()
    shot(page, "10-oriente-15")
    ((request_id, status),) = db_rows(
        server,
        "SELECT r.id, r.status FROM care_requests r JOIN patients p ON p.id = r.patient_id "
        "WHERE p.family_name = 'Mercier'",
    )
    assert status == "redirected_15"

    # The server refuses a booking for it even when the form is forged.
    page.goto(f"{server.base_url}/demandes/{request_id}")
    assert page.locator("table.proposals").count() == 0
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    practitioner = db_rows(server, "SELECT id FROM practitioners ORDER BY id LIMIT 1")[0][0]
    response = page.request.post(
        f"{server.base_url}/demandes/{request_id}/reserver",
        form={
            "csrf_token": token,
            "practitioner_id": str(practitioner),
            "kind": "teleconsultation",
            "start_at": "2026-12-07T15:00:00+01:00",
            "end_at": "2026-12-07T15:15:00+01:00",
        },
    )
    assert response.status == 409 and "réorientée vers le 15" in response.text()
    assert not db_rows(
        server, "SELECT id FROM appointments WHERE request_id = :rid", rid=request_id
    )


def test_a_validation_error_keeps_what_was_typed_and_shows_the_message(page, server):
    log_in(page, server, "secretaire")
    page.goto(f"{server.base_url}/demandes/nouvelle")
    form = page.locator("form[action='/patients/nouveau']")
    form.get_by_label("Nom", exact=True).fill("Rolland")
    form.get_by_label("Prénom").fill("Mathilde")
    form.get_by_label("Téléphone").fill("12")
    form.get_by_label("Adresse").fill("8 impasse Fictive")
    form.get_by_label("Mobilité réduite").check()
    form.get_by_role("button", name="Créer le patient et continuer").click()
    page.wait_for_load_state()

    assert page.locator("#err-birth_date").inner_text() == "Ce champ est obligatoire."
    assert "Numéro de téléphone" in page.locator("#err-phone").inner_text()
    form = page.locator("form[action='/patients/nouveau']")
    assert form.get_by_label("Nom", exact=True).input_value() == "Rolland"
    assert form.get_by_label("Prénom").input_value() == "Mathilde"
    assert form.get_by_label("Téléphone").input_value() == "12"
    assert form.get_by_label("Adresse").input_value() == "8 impasse Fictive"
    assert form.get_by_label("Mobilité réduite").is_checked()
    birth = form.get_by_label("Date de naissance")
    assert birth.get_attribute("aria-invalid") == "true"
    assert birth.evaluate("el => el === document.activeElement")  # focus on the first error
    shot(page, "11-erreur-de-saisie")
    assert not db_rows(server, "SELECT id FROM patients WHERE family_name = 'Rolland'")


def test_the_coordinator_adds_a_session_and_it_appears_in_the_agenda(page, server):
    log_in(page, server, "coordination")
    page.get_by_role("link", name="Équipe").click()
    page.wait_for_url(re.compile("/equipe"))
    shot(page, "12-equipe")
    form = page.locator("#form-vacation")
    form.get_by_label("Médecin").select_option(label="Dr Sophie Petit")
    form.get_by_label("Date").fill("2026-12-13")  # a Sunday: no session from the templates
    form.get_by_label("Type").select_option("teleconsultation")
    form.get_by_label("Début").fill("09:00")
    form.get_by_label("Fin").fill("12:00")
    form.get_by_label("Ouverte au SAS").check()
    form.get_by_role("button", name="Ajouter la vacation").click()
    page.wait_for_url(re.compile(r"/equipe\?fait=vacation"))
    assert "Vacation ajoutée" in page.locator("#flash").inner_text()

    page.get_by_role("link", name="Agenda").click()
    page.get_by_label("Date").fill("2026-12-13")
    page.get_by_label("Médecin").select_option(label="Dr Sophie Petit")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url(re.compile("date=2026-12-13"))
    session = page.locator(".session").first.inner_text()
    assert "Téléconsultation 09:00–12:00" in session and "ouverte au SAS" in session
    shot(page, "13-agenda-vacation-ajoutee")


def test_a_practitioner_cannot_open_the_secretariat_pages(page, server):
    log_in(page, server, "dr.martin")
    assert page.url.endswith("/medecin")
    for path in ("/demandes/nouvelle", "/agenda", "/equipe", "/patients/1", "/tableau/appels"):
        response = page.goto(f"{server.base_url}{path}")
        assert response.status == 403, path
        assert page.get_by_role("heading", name="Accès refusé").is_visible()
    shot(page, "14-acces-refuse")
