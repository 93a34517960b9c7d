"""/equipe: the coordinator's MCG choice, off by default, shown with its consequence."""

from __future__ import annotations

from sqlalchemy import select

from app.appointments.models import BillingSetting
from app.requests.models import CareRequest
from tests.factories import make_patient
from tests.web.conftest import csrf_of, login_as


async def test_the_coordinator_turns_the_mcg_on_every_platform_act_on_and_off(client, db, world):
    await login_as(client, "coordination")
    page = await client.get("/equipe")
    assert "Facturation : majoration de coordination (MCG)" in page.text
    assert "jamais pour un patient sans médecin traitant" in page.text
    assert "la CPAM peut la rejeter" in page.text
    assert 'name="mcg_on_every_platform_act">' in page.text  # unchecked by default
    token = csrf_of(page.text)
    response = await client.post(
        "/equipe/facturation", data={"csrf_token": token, "mcg_on_every_platform_act": "on"}
    )
    assert response.status_code == 303
    setting = await db.get(BillingSetting, 1)
    assert setting is not None and setting.mcg_on_every_platform_act is True
    await db.commit()
    page = await client.get("/equipe?fait=facturation")
    assert "Règle de facturation de la MCG enregistrée." in page.text
    assert 'name="mcg_on_every_platform_act" checked>' in page.text
    await client.post("/equipe/facturation", data={"csrf_token": token})
    await db.refresh(setting)
    assert setting.mcg_on_every_platform_act is False


async def test_the_intake_form_records_a_referral_by_the_medecin_traitant(client, db, world):
    token = await login_as(client, "secretaire")
    patient = await make_patient(db, medecin_traitant_status="declared")
    page = await client.get(f"/demandes/nouvelle?patient_id={patient.id}")
    assert "Adressé par son médecin déclaré" in page.text
    response = await client.post(
        "/demandes",
        data={
            "csrf_token": token,
            "patient_id": patient.id,
            "reason": "Toux",
            "action": "propose",
            "medecin_traitant_status": "declared",
            "referred_by_medecin_traitant": "on",
        },
    )
    assert response.status_code in (200, 303), response.text
    care_request = await db.scalar(select(CareRequest))
    assert care_request is not None and care_request.referred_by_medecin_traitant is True
