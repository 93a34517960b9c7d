"""/equipe: the coordinator's MCG choice, off by default, shown with its consequence."""

from __future__ import annotations

from app.appointments.models import BillingSetting
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
