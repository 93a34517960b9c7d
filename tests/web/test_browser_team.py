"""The coordinator's roster edits, the regulator's page with holds, the GP's day on a phone
and the indicators page, in a real Chromium against the real server (issue 22, items 4–7)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import httpx
import pytest

from app.accounts import service as accounts_service
from app.accounts.models import Role
from app.core.db import make_engine, make_sessionmaker
from app.core.timeutil import PARIS
from tests.web.server import NOW, LiveServer, live_server, run_async
from tests.web.test_browser import browser, db_rows, log_in, shot  # noqa: F401

pytestmark = pytest.mark.browser

WED = dt.date(2026, 12, 9)


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with live_server() as running:
        yield running


@pytest.fixture
def context(browser, server):  # noqa: F811
    made = []

    def new(width: int = 1366, height: int = 900):
        ctx = browser.new_context(viewport={"width": width, "height": height}, locale="fr-FR")
        ctx.set_default_timeout(15_000)
        made.append(ctx)
        return ctx.new_page()

    yield new
    for ctx in made:
        ctx.close()
    server.clock.set(NOW)


def _api(server: LiveServer, username: str) -> httpx.Client:
    client = httpx.Client(base_url=server.base_url, timeout=30)
    token = client.post("/api/auth/token", data={"username": username, "password": "demo"})
    assert token.status_code == 200, token.text
    client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return client


def _book(server: LiveServer, practitioner_id: int, start: dt.datetime, family: str) -> int:
    """A teleconsultation booked by the secretariat through the API (arranging)."""
    api = _api(server, "secretaire")
    try:
        patient = api.post(
            "/api/patients",
            json={
                "family_name": family,
                "given_name": "Anne",
                "birth_date": "1970-05-04",
                "phone": f"+336399800{len(family):02d}",
            },
        )
        assert patient.status_code in (200, 201), patient.text
        body = patient.json()
        patient_id = body.get("id") or body["patient"]["id"]
        request = api.post(
            "/api/requests",
            json={"patient_id": patient_id, "reason": "Fièvre", "urgency": "within_48h"},
        )
        assert request.status_code == 201, request.text
        booked = api.post(
            "/api/appointments",
            json={
                "request_id": request.json()["request"]["id"],
                "practitioner_id": practitioner_id,
                "start_at": start.isoformat(),
                "kind": "teleconsultation",
            },
        )
        assert booked.status_code == 201, booked.text
        return booked.json()["id"]
    finally:
        api.close()


def _teleconsultation_on(server: LiveServer, day: dt.date) -> tuple[int, dt.datetime, str]:
    """A titular's teleconsultation session of that day: (GP id, start, family name)."""
    rows = db_rows(
        server,
        "SELECT s.practitioner_id, s.start_at, p.family_name FROM duty_sessions s "
        "JOIN practitioners p ON p.id = s.practitioner_id WHERE s.date = :day "
        "AND s.kind = 'teleconsultation' AND NOT s.cancelled AND p.status = 'titular' "
        "ORDER BY s.practitioner_id",
        day=day,
    )
    pid, start, family = rows[0]
    if isinstance(start, str):
        start = dt.datetime.fromisoformat(start)
    if start.tzinfo is None:
        start = start.replace(tzinfo=dt.UTC)
    return pid, start.astimezone(PARIS), family


def test_the_coordinator_edits_the_roster_with_the_impact_first(context, server):
    pid, start, family = _teleconsultation_on(server, WED)
    appointment_id = _book(server, pid, start + dt.timedelta(hours=1), "Petit")
    page = context()
    log_in(page, server, "coordination")
    page.goto(f"{server.base_url}/equipe")
    form = page.locator("form[action='/equipe/absences']")
    form.get_by_label("Médecin").select_option(str(pid))
    form.get_by_label("Du").fill(WED.isoformat())
    form.get_by_label("Au (inclus)").fill(WED.isoformat())
    form.get_by_role("button", name="Enregistrer l'absence").click()
    blocking = page.locator("#absence-blocking")
    blocking.wait_for()
    link = blocking.get_by_role("link", name="PETIT Anne")
    assert link.get_attribute("href") == f"/rendez-vous/{appointment_id}"
    assert "mercredi 9 décembre à" in blocking.inner_text()
    blocking.scroll_into_view_if_needed()
    shot(page, "team-01-absence-refusee")

    (template_id,) = db_rows(
        server,
        "SELECT template_id FROM duty_sessions WHERE practitioner_id = :pid AND date = :day "
        "AND kind = 'teleconsultation'",
        pid=pid,
        day=WED,
    )[0]
    page.goto(f"{server.base_url}/equipe")
    edit = page.locator(f"a[href='/equipe/modeles/{template_id}']")
    page.locator("details", has=edit).locator("summary").click()
    edit.click()
    page.wait_for_url(re.compile(rf"/equipe/modeles/{template_id}$"))
    new_start = (start + dt.timedelta(hours=2)).strftime("%H:%M")
    page.get_by_label("Début").fill(new_start)
    page.get_by_role("button", name="Voir les conséquences").click()
    impact = page.locator("#impact")
    impact.wait_for()
    assert "Vacations maintenues car des rendez-vous y sont pris (1)" in impact.inner_text()
    assert impact.get_by_role("link", name="PETIT Anne").count() == 1
    shot(page, "team-02-modele-consequences")
    page.get_by_role("button", name="Confirmer la modification").click()
    page.wait_for_url(re.compile(r"/equipe\?fait=modele-modifie"))
    assert "Modèle hebdomadaire modifié." in page.locator("#flash").inner_text()
    shot(page, "team-03-modele-modifie")
    later = db_rows(
        server,
        "SELECT start_at FROM duty_sessions WHERE template_id = :t AND date = :day",
        t=template_id,
        day=WED + dt.timedelta(days=7),
    )
    assert len(later) == 1


def _second_regulator(server: LiveServer) -> None:
    async def create() -> None:
        engine = make_engine(server.database_url)
        async with make_sessionmaker(engine)() as session, session.begin():
            await accounts_service.create(
                session=session, username="regulateur2", password="demo", role=Role.regulator
            )
        await engine.dispose()

    run_async(create())


def _first_slots(page) -> list[str]:
    return page.locator(".first-slots input[name='slot']").evaluate_all(
        "els => els.map(e => e.value)"
    )


def test_two_regulators_get_different_first_slots_and_a_french_confirmation(context, server):
    _second_regulator(server)
    pid = db_rows(
        server,
        "SELECT practitioner_id FROM duty_sessions WHERE open_to_sas AND NOT cancelled "
        "AND date = :day ORDER BY practitioner_id",
        day=NOW.date(),
    )[0][0]
    target = f"{server.base_url}/sas/praticiens/{pid}?origin=sas"
    first, second = context(), context()
    for page, username in ((first, "regulateur"), (second, "regulateur2")):
        log_in(page, server, username)
        page.goto(target)
    second.reload()  # now both look at once: the second sees the first's holds
    first.reload()
    a, b = _first_slots(first), _first_slots(second)
    assert len(a) == 3 and len(b) == 3 and not set(a) & set(b)
    shot(first, "team-04-sas-regulateur-1")
    shot(second, "team-05-sas-regulateur-2")

    first.get_by_role("button", name="Réserver pour ce patient").click()
    error = first.locator("#slot-error")
    error.wait_for()
    assert error.inner_text() == "Choisissez un créneau avant de réserver."
    first.locator(".first-slots label.slot").first.click()
    first.get_by_label("Nom", exact=True).fill("Lemoine")
    first.get_by_label("Prénom").fill("Rose")
    first.get_by_label("Date de naissance").fill("1985-04-12")
    first.get_by_label("Motif (2 000 caractères au plus)").fill("Otalgie")
    first.get_by_role("button", name="Réserver pour ce patient").click()
    first.wait_for_url(re.compile(r"/sas/rendez-vous/\d+"))
    confirmation = first.locator("#confirmation").inner_text()
    assert "LEMOINE Rose" in confirmation and "téléconsultation avec Dr" in confirmation
    shot(first, "team-06-sas-confirmation")
    first.goto(f"{server.base_url}/sas")
    assert "réservé" in first.locator("li .badge").first.inner_text()
    assert "booked" not in first.locator("main").inner_text()
    shot(first, "team-07-sas-statuts")


def test_the_gp_records_seen_with_a_confirmation_and_undoes_it_on_a_phone(context, server):
    pid, start, family = _teleconsultation_on(server, NOW.date())
    start += dt.timedelta(hours=3)  # clear of the regulators' first slots
    appointment_id = _book(server, pid, start, "Rousseau")
    username = db_rows(server, "SELECT username FROM users WHERE practitioner_id = :pid", pid=pid)[
        0
    ][0]
    page = context(375, 812)
    log_in(page, server, username)
    page.goto(f"{server.base_url}/medecin")
    card = page.locator(f"#rdv-{appointment_id}")
    seen = card.locator("button[value='fulfilled']")
    absent = card.locator("button[value='noshow']")
    assert seen.is_disabled() and absent.is_disabled()
    assert "avant son début" in card.inner_text()
    for button in (seen, absent):
        box = button.bounding_box()
        assert box and box["height"] >= 44 and box["width"] >= 300  # stacked, full width
    shot(page, "team-08-medecin-375-avant-l-heure")

    server.clock.set(start + dt.timedelta(minutes=5))
    log_in(page, server, username)  # hours later: the idle session has expired
    page.goto(f"{server.base_url}/medecin")
    assert not seen.is_disabled() and absent.is_disabled()
    seen.click()
    confirm = page.locator(f"#confirm-{appointment_id}")
    confirm.wait_for()
    assert "vu" in confirm.inner_text()
    shot(page, "team-09-medecin-375-confirmation")
    confirm.get_by_role("button", name="Confirmer « vu »").click()
    page.locator("#flash").wait_for()
    undo = page.get_by_role("button", name="Annuler « vu »")
    assert (undo.bounding_box() or {}).get("height", 0) >= 44
    shot(page, "team-10-medecin-375-vu")
    undo.click()
    page.locator("#flash").wait_for()
    assert "de nouveau à faire" in page.locator("#flash").inner_text()
    (status,) = db_rows(server, "SELECT status FROM appointments WHERE id = :i", i=appointment_id)
    assert status[0] == "booked"


def test_the_indicators_page_reads_in_french_with_exact_counts(context, server):
    page = context()
    log_in(page, server, "coordination")
    page.goto(f"{server.base_url}/indicateurs")
    text = page.locator(".indicators").inner_text()
    assert "Professionnels de santé participants" in text
    assert "Service d'accès aux soins (SAS)" in text
    assert "INT_R03" not in text and "<5" not in text.replace("« <5 »", "")
    assert "Effectifs exacts" in text
    shot(page, "team-11-indicateurs")
    page.goto(f"{server.base_url}/indicateurs/rapport")
    assert "Demandes de soins non programmés" in page.content()
    shot(page, "team-12-rapport-imprimable")
