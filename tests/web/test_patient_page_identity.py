"""Issue 19 item 11–12 on the patient page: probable duplicates merged after a confirmation
(audited), the INS fields, the AME / no coverage flags with the PASS/CCAS orientation."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.patients.models import Patient
from app.requests.models import CareRequest
from tests.conftest import MONDAY_0830 as NOW
from tests.factories import make_patient
from tests.web.conftest import login_as


async def _fresh(db, model, id_: int):
    db.expunge_all()
    await db.rollback()
    return await db.get(model, id_)


async def test_a_probable_duplicate_is_shown_and_merged_only_once_confirmed(client, db, world):
    token = await login_as(client, "secretaire")
    kept = await make_patient(db, phone="+33612345678")
    twin = await make_patient(db, phone="+33698765432", nir="280057512345633")
    other = await make_patient(db, family_name="Martin", birth_date=dt.date(1975, 1, 2))
    db.add(
        CareRequest(
            patient_id=twin.id,
            channel="phone",
            received_at=NOW,
            reason="Toux",
            status="new",
            status_changed_at=NOW,
        )
    )
    await db.commit()
    page = await client.get(f"/patients/{kept.id}")
    assert page.status_code == 200
    assert "Doublons probables" in page.text
    assert "DUPONT Jeanne" in page.text and "06 98 76 54 32" in page.text  # nom_prenom, telephone
    assert f'href="/patients/{kept.id}/fusion/{twin.id}"' in page.text
    assert f"/fusion/{other.id}" not in page.text
    # The confirmation step shows both records and what moves.
    confirm = await client.get(f"/patients/{kept.id}/fusion/{twin.id}")
    assert confirm.status_code == 200
    assert "Je confirme qu'il s'agit de la même personne" in confirm.text
    assert "1 demande(s)" in confirm.text
    # Without the box ticked: refused in French, nothing merged.
    refused = await client.post(
        f"/patients/{kept.id}/fusion", data={"csrf_token": token, "duplicate_id": twin.id}
    )
    assert refused.status_code == 409
    assert "Confirmez la fusion" in refused.text
    assert (await _fresh(db, Patient, twin.id)).merged_into_id is None
    # Without a CSRF token: refused.
    forged = await client.post(
        f"/patients/{kept.id}/fusion", data={"duplicate_id": twin.id, "confirm": "on"}
    )
    assert forged.status_code == 403
    # Confirmed: merged, redirected, audited, the request moved, the NIR kept.
    done = await client.post(
        f"/patients/{kept.id}/fusion",
        data={"csrf_token": token, "duplicate_id": twin.id, "confirm": "on"},
    )
    assert (
        done.status_code == 303 and done.headers["location"] == f"/patients/{kept.id}?fait=fusion"
    )
    assert (await _fresh(db, Patient, twin.id)).merged_into_id == kept.id
    assert (await db.get(Patient, kept.id)).nir == "280057512345633"
    moved = await db.scalar(select(CareRequest.patient_id))
    assert moved == kept.id
    audit = (await db.scalars(select(AuditEvent).where(AuditEvent.action == "merge"))).all()
    assert {e.entity_id for e in audit} == {kept.id, twin.id}
    after = await client.get(done.headers["location"])
    assert "Dossiers fusionnés" in after.text and "Doublons probables" not in after.text
    merged = await client.get(f"/patients/{twin.id}")
    assert "fusionné dans le" in merged.text and f"dossier n°{kept.id}" in merged.text
    # Nonsense ids: a French 4xx, never a 500.
    bad = await client.post(
        f"/patients/{kept.id}/fusion", data={"csrf_token": token, "duplicate_id": "abc"}
    )
    assert bad.status_code == 422 and "Choisissez le dossier" in bad.text
    missing = await client.post(
        f"/patients/{kept.id}/fusion",
        data={"csrf_token": token, "duplicate_id": "999999", "confirm": "on"},
    )
    assert missing.status_code == 404


async def test_the_ins_fields_are_edited_with_the_rniv_rule(client, db, world):
    token = await login_as(client, "secretaire")
    person = await make_patient(db)
    page = await client.get(f"/patients/{person.id}")
    assert "Identité nationale de santé (INS)" in page.text and "Identité provisoire" in page.text
    # A qualified identity without its INS: refused next to the form, nothing stored.
    refused = await client.post(
        f"/patients/{person.id}/ins", data={"csrf_token": token, "identity_status": "qualifiee"}
    )
    assert refused.status_code == 422
    assert "porte le matricule INS et son OID" in refused.text
    assert (await _fresh(db, Patient, person.id)).identity_status == "provisoire"
    # A malformed matricule: the field's French message.
    malformed = await client.post(
        f"/patients/{person.id}/ins",
        data={"csrf_token": token, "ins_matricule": "12AB", "identity_status": "provisoire"},
    )
    assert malformed.status_code == 422 and "Format invalide." in malformed.text
    done = await client.post(
        f"/patients/{person.id}/ins",
        data={
            "csrf_token": token,
            "ins_matricule": "2 80 05 75 123 456 33",
            "ins_oid": "1.2.250.1.213.1.4.8",
            "identity_status": "qualifiee",
        },
    )
    assert done.status_code == 303, done.text
    stored = await _fresh(db, Patient, person.id)
    assert (stored.ins_matricule, stored.ins_oid, stored.identity_status) == (
        "280057512345633",
        "1.2.250.1.213.1.4.8",
        "qualifiee",
    )
    updates = (
        await db.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "update", AuditEvent.entity_id == person.id
            )
        )
    ).all()
    assert any("ins_matricule" in (e.detail or {}).get("fields", []) for e in updates)
    page = await client.get(done.headers["location"])
    assert "Identité (INS) enregistrée." in page.text
    assert "Identité qualifiée" in page.text and 'value="280057512345633"' in page.text


async def test_ame_and_no_coverage_show_the_pass_ccas_orientation(client, db, world):
    token = await login_as(client, "secretaire")
    person = await make_patient(db)
    page = await client.get(f"/patients/{person.id}")
    assert "Orientation PASS/CCAS" not in page.text
    done = await client.post(
        f"/patients/{person.id}/couverture", data={"csrf_token": token, "ame": "on"}
    )
    assert done.status_code == 303
    stored = await _fresh(db, Patient, person.id)
    assert (stored.ame, stored.no_coverage) == (True, False)
    page = await client.get(done.headers["location"])
    assert "Couverture enregistrée." in page.text
    assert "Orientation PASS/CCAS" in page.text and "bénéficiaire de l'AME" in page.text
    assert 'id="ame" name="ame" checked' in page.text
    # Both at once is refused in French (the AME is a coverage); nothing changes.
    both = await client.post(
        f"/patients/{person.id}/couverture",
        data={"csrf_token": token, "ame": "on", "no_coverage": "on"},
    )
    assert both.status_code == 422 and "pas les deux" in both.text
    assert (await _fresh(db, Patient, person.id)).no_coverage is False
    # Unticking both goes back to an ordinary coverage.
    await client.post(f"/patients/{person.id}/couverture", data={"csrf_token": token})
    assert (await _fresh(db, Patient, person.id)).ame is False
    assert "Orientation PASS/CCAS" not in (await client.get(f"/patients/{person.id}")).text
