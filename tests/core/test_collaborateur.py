"""The collaborateur libéral: own name, own billing, may be médecin traitant, no titular."""

from __future__ import annotations

from app.accounts.models import Role
from app.practitioners.models import Practitioner, PractitionerStatus
from tests.factories import add_week, make_patient, make_practitioner, make_user, token
from tests.gp.helpers import book, local, new_request

PAYLOAD = {
    "family_name": "Collab",
    "given_name": "Lou",
    "rpps": "99110009991",
    "status": "collaborateur",
    "address": "2 rue Exemple",
    "postal_code": "94260",
    "commune": "Fresnes",
    "latitude": 48.75,
    "longitude": 2.32,
}


async def test_a_collaborateur_is_registered_without_a_titular(client, world):
    paired = await client.post(
        "/api/practitioners",
        json={**PAYLOAD, "titular_id": world.titular.id},
        headers=world.coordinator,
    )
    assert paired.status_code == 422
    assert "Seul un médecin adjoint est rattaché" in paired.text
    response = await client.post("/api/practitioners", json=PAYLOAD, headers=world.coordinator)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "collaborateur"
    assert response.json()["titular_id"] is None


async def test_a_collaborateur_works_and_bills_in_their_own_name(client, world, db, clock):
    collab = await make_practitioner(
        db, family_name="Collab", given_name="Lou", status=PractitionerStatus.collaborateur
    )
    await add_week(db, collab, world.today)
    await make_user(db, "dr.collab", Role.practitioner, practitioner_id=collab.id)
    _p, request_id = await new_request(client, world, db)
    booked = await book(client, world, request_id, collab.id, local(world.today, 14))
    clock.set(local(world.today, 14, 10))
    response = await client.post(
        f"/api/me/appointments/{booked['id']}/outcome",
        json={"status": "fulfilled"},
        headers=await token(client, "dr.collab"),
    )
    assert response.status_code == 200, response.text
    billing = response.json()["billing"]
    assert billing["billed_under_id"] == collab.id
    assert billing["billed_under"] == "Dr Lou Collab"
    assert "facturation" not in billing["reasons"]


async def test_a_collaborateur_may_be_proposed_as_medecin_traitant(client, world, db):
    collab = await make_practitioner(
        db, family_name="Collab", given_name="Lou", status=PractitionerStatus.collaborateur
    )
    row = await db.get(Practitioner, collab.id)
    row.accepts_new_patients, row.new_patient_capacity = True, 5
    await db.commit()
    patient = await make_patient(db, phone="+33639980061")
    entered = await client.post(
        f"/api/orientation/patients/{patient.id}",
        params={"consent": "true"},
        headers=world.secretary,
    )
    assert entered.status_code == 200, entered.text
    gps = (await client.get("/api/orientation/gps", headers=world.secretary)).json()
    assert collab.id in [g["id"] for g in gps if g["kind"] == "platform"]
    batch = (await client.post("/api/orientation/batches", headers=world.coordinator)).json()
    assert batch["proposed"] == 1
    [case] = (await client.get("/api/orientation/cases", headers=world.secretary)).json()
    assert case["proposed_gp_id"] == collab.id
