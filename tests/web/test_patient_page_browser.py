"""The secretariat's identity work in a real Chromium (issue 19 items 11–12): a twin created
on purpose, the same person created twice and merged after a confirmation, the INS typed,
the AME flag with its PASS/CCAS orientation. Screenshots in test-artifacts/web/."""

from __future__ import annotations

import re

import pytest

from tests.web.test_browser import browser, db_rows, log_in, new_patient, page, server, shot  # noqa: F401

pytestmark = pytest.mark.browser


def test_the_secretary_merges_a_duplicate_types_the_ins_and_flags_the_ame(page, server):  # noqa: F811
    log_in(page, server, "secretaire")
    new_patient(page, server, "Roux", "Léa", "1990-04-05", "06 39 98 00 61")
    kept = int(page.url.rsplit("=", 1)[1])
    # The same person called again from another phone: the form warns, the secretary
    # creates it anyway (as a busy line would), and the patient page shows the pair.
    page.goto(f"{server.base_url}/demandes/nouvelle")
    form = page.locator("form[action='/patients/nouveau']")
    form.get_by_label("Nom", exact=True).fill("ROUX")
    form.get_by_label("Prénom").fill("Lea")
    form.get_by_label("Date de naissance").fill("1990-04-05")
    form.get_by_label("Téléphone").fill("06 39 98 00 62")
    form.get_by_role("button", name="Créer le patient et continuer").click()
    page.locator("#create-error").wait_for()
    page.get_by_label("Ce n'est pas la même personne : créer quand même").check()
    page.get_by_role("button", name="Créer le patient et continuer").click()
    page.wait_for_url(re.compile(r"/demandes/nouvelle\?patient_id=\d+"))
    duplicate = int(page.url.rsplit("=", 1)[1])

    page.goto(f"{server.base_url}/patients/{kept}")
    doubles = page.locator("#doublons")
    assert "ROUX Lea" in doubles.inner_text() and "06 39 98 00 62" in doubles.inner_text()
    assert page.get_by_role("heading", name="ROUX Léa").count() == 1
    shot(page, "30-fiche-doublon-probable")
    doubles.get_by_role("link", name="Fusionner dans ce dossier…").click()
    page.wait_for_url(re.compile(rf"/patients/{kept}/fusion/{duplicate}$"))
    merge = page.get_by_role("button", name="Fusionner les dossiers")
    merge.click()  # without the box: the server's French refusal, on the same step
    assert "confirm" in page.locator("#err-confirm").inner_text().lower()
    assert page.get_by_label("Je confirme qu'il s'agit de la même personne").count() == 1
    shot(page, "31-confirmation-fusion")
    page.get_by_label("Je confirme qu'il s'agit de la même personne").check()
    page.get_by_role("button", name="Fusionner les dossiers").click()
    page.wait_for_url(re.compile(rf"/patients/{kept}\?fait=fusion"))
    assert "Dossiers fusionnés" in page.locator("#flash").inner_text()
    assert page.locator("#doublons").count() == 0
    ((merged_into,),) = db_rows(
        server, "SELECT merged_into_id FROM patients WHERE id = :id", id=duplicate
    )
    assert merged_into == kept

    ins = page.locator("#form-ins")
    ins.get_by_label("Matricule INS").fill("290049912345678")
    ins.get_by_label("OID de l'autorité").select_option("1.2.250.1.213.1.4.8")
    ins.get_by_label("Statut de l'identité").select_option("validee")
    ins.get_by_role("button", name="Enregistrer l'identité").click()
    page.wait_for_url(re.compile(r"\?fait=ins"))
    assert "Identité validée" in page.locator("#identity-status").inner_text()

    page.get_by_label("AME (aide médicale de l'État)").check()
    page.get_by_role("button", name="Enregistrer la couverture").click()
    page.wait_for_url(re.compile(r"\?fait=couverture"))
    assert "Orientation PASS/CCAS" in page.locator("#pass-ccas").inner_text()
    shot(page, "32-fiche-ins-ame-pass-ccas")
    ((ins_matricule, status, ame),) = db_rows(
        server, "SELECT ins_matricule, identity_status, ame FROM patients WHERE id = :id", id=kept
    )
    assert (ins_matricule, status, bool(ame)) == ("290049912345678", "validee", True)
