"""The orientation page: cases by status, the batch, answers after the call, declaration."""

from __future__ import annotations

from sqlalchemy import select

from app.orientation import service as orientation_service
from app.orientation.models import CaseStatus, CloseReason, OrientationCase
from app.patients.models import MedecinTraitantStatus, Patient
from app.practitioners.models import Practitioner
from tests.factories import make_patient
from tests.web.conftest import login_as


async def _gp_takes(db, practitioner, capacity: int) -> None:
    row = await db.get(Practitioner, practitioner.id)
    row.accepts_new_patients = True
    row.new_patient_capacity = capacity
    await db.commit()


async def _case(db, clock, patient, consent: bool | None = True) -> int:
    case = await orientation_service.enter_patient(
        session=db, patient_id=patient.id, actor=None, now=clock(), consent=consent
    )
    await db.commit()
    return case.id


async def _reload(db, case_id: int) -> OrientationCase:
    await db.commit()  # end the read snapshot: see what the app's requests committed
    stmt = select(OrientationCase).where(OrientationCase.id == case_id)
    return (await db.scalars(stmt.execution_options(populate_existing=True))).one()


async def _proposed_case(client, db, clock, world, token: str) -> tuple[int, Patient]:
    await _gp_takes(db, world.titular, 2)
    patient = await make_patient(db, family_name="Lefèvre", phone="+33639981001")
    case_id = await _case(db, clock, patient)
    response = await client.post("/orientation/lot", data={"csrf_token": token})
    assert response.status_code == 303, response.text
    assert (await _reload(db, case_id)).status == CaseStatus.proposed
    return case_id, patient


async def test_the_list_shows_each_case_with_what_the_secretary_needs(client, db, world, clock):
    patient = await make_patient(
        db, family_name="Moreau", given_name="Paul", ald=True, language="ar", phone="+33639981002"
    )
    await _case(db, clock, patient, consent=None)
    await login_as(client, "secretaire")

    page = await client.get("/orientation")

    assert page.status_code == 200
    text = page.text
    assert 'href="/orientation" aria-current="page"' in text  # the nav link, active
    assert f'href="/patients/{patient.id}">MOREAU Paul</a>' in text
    assert (
        "À orienter" in text
        and "ALD" in text
        and "<td>Cachan</td>" in text
        and "<td>AR</td>" in text
    )
    assert "Consentement : à recueillir" in text
    assert "Proposer des médecins traitants" in text


async def test_the_batch_proposes_a_gp_to_a_consenting_patient_and_explains_the_others(
    client, db, world, clock
):
    await _gp_takes(db, world.titular, 1)
    consenting = await make_patient(db, family_name="Roux", phone="+33639981003")
    not_asked = await make_patient(db, family_name="Blanc", phone="+33639981004")
    consenting_case = await _case(db, clock, consenting, consent=True)
    not_asked_case = await _case(db, clock, not_asked, consent=None)
    token = await login_as(client, "secretaire")

    response = await client.post("/orientation/lot", data={"csrf_token": token})

    assert response.status_code == 303
    assert response.headers["location"] == "/orientation?fait=lot"
    proposed = await _reload(db, consenting_case)
    assert proposed.status == CaseStatus.proposed
    assert proposed.practitioner_id == world.titular.id
    assert (await _reload(db, not_asked_case)).status == CaseStatus.to_orient
    page = (await client.get(response.headers["location"])).text
    assert "1 médecin(s) proposé(s) sur 2 patient(s) en attente" in page
    assert "Consentement du patient à l&#39;orientation à recueillir. <strong>(1)</strong>" in page
    assert "Dr Claire Martin" in page
    # The summary is shown once, not on every later visit.
    assert "Lot n°" not in (await client.get("/orientation?fait=lot")).text


async def test_recording_accepted_then_declared_moves_the_case_and_the_patient_file(
    client, db, world, clock
):
    token = await login_as(client, "secretaire")
    case_id, patient = await _proposed_case(client, db, clock, world, token)

    answered = await client.post(
        f"/orientation/{case_id}/reponse",
        data={"csrf_token": token, "answer": "accepted", "note": "Rappelé, d'accord"},
    )

    assert answered.status_code == 303
    assert answered.headers["location"] == f"/orientation?fait=reponse#dossier-{case_id}"
    assert (await _reload(db, case_id)).status == CaseStatus.accepted
    page = await client.get("/orientation")
    assert f'action="/orientation/{case_id}/declaration"' in page.text
    assert "Déclaration faite" in page.text

    declared = await client.post(f"/orientation/{case_id}/declaration", data={"csrf_token": token})

    assert declared.status_code == 303
    assert (await _reload(db, case_id)).status == CaseStatus.declared
    await db.commit()
    row = await db.scalar(
        select(Patient).where(Patient.id == patient.id).execution_options(populate_existing=True)
    )
    assert row.medecin_traitant_status == MedecinTraitantStatus.declared
    assert row.medecin_traitant_name == "Dr Claire Martin"
    declared_list = await client.get("/orientation?statut=declared")
    assert f'href="/patients/{patient.id}"' in declared_list.text


async def test_an_unreachable_patient_closes_the_case_with_the_note(client, db, world, clock):
    token = await login_as(client, "secretaire")
    case_id, _ = await _proposed_case(client, db, clock, world, token)

    response = await client.post(
        f"/orientation/{case_id}/reponse",
        data={"csrf_token": token, "answer": "unreachable", "note": "3 appels sans réponse"},
    )

    assert response.status_code == 303
    case = await _reload(db, case_id)
    assert case.status == CaseStatus.closed
    assert case.close_reason == CloseReason.unreachable
    assert case.close_note == "3 appels sans réponse"


async def test_errors_are_shown_in_french_beside_the_form_and_nothing_typed_is_lost(
    client, db, world, clock
):
    token = await login_as(client, "secretaire")
    case_id, _ = await _proposed_case(client, db, clock, world, token)

    missing = await client.post(
        f"/orientation/{case_id}/reponse",
        data={"csrf_token": token, "note": "Rappeler après 18 h"},
    )

    assert missing.status_code == 422
    assert f'id="err-answer-{case_id}" role="alert">Choisissez la réponse du patient.' in (
        missing.text
    )
    assert 'value="Rappeler après 18 h"' in missing.text
    # A rule of the service (not yet accepted → not declared) comes back in French too.
    too_early = await client.post(f"/orientation/{case_id}/declaration", data={"csrf_token": token})
    assert too_early.status_code == 409
    assert "Passage impossible de « Médecin proposé » à « Médecin traitant déclaré »" in (
        too_early.text
    )
    assert (await _reload(db, case_id)).status == CaseStatus.proposed


async def test_a_practitioner_cannot_open_or_use_the_page(client, db, world, clock):
    patient = await make_patient(db, phone="+33639981005")
    case_id = await _case(db, clock, patient)
    token = await login_as(client, "dr.martin")

    assert (await client.get("/orientation")).status_code == 403
    response = await client.post(
        f"/orientation/{case_id}/consentement", data={"csrf_token": token, "given": "non"}
    )
    assert response.status_code == 403
    assert (await client.post("/orientation/lot", data={"csrf_token": token})).status_code == 403
    assert (await _reload(db, case_id)).status == CaseStatus.to_orient
    assert 'href="/orientation"' not in (await client.get("/medecin")).text


async def test_a_form_without_the_csrf_token_is_refused(client, db, world, clock):
    await _gp_takes(db, world.titular, 2)
    patient = await make_patient(db, phone="+33639981006")
    case_id = await _case(db, clock, patient)
    await login_as(client, "secretaire")

    assert (await client.post("/orientation/lot", data={})).status_code == 403
    refused = await client.post(f"/orientation/{case_id}/consentement", data={"given": "non"})
    assert refused.status_code == 403
    assert (await _reload(db, case_id)).status == CaseStatus.to_orient
