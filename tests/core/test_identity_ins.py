"""INS fields prepared on the patient (ANS Référentiel INS), without calling INSi."""

from __future__ import annotations


async def test_ins_fields_follow_the_identity_status(client, world):
    """RNIV: a qualified (or retrieved) identity carries the INS matricule and its OID."""
    base = {"family_name": "Ins", "given_name": "Test", "birth_date": "1985-04-12"}
    refused = await client.post(
        "/api/patients", json={**base, "identity_status": "qualifiee"}, headers=world.secretary
    )
    assert refused.status_code == 422
    assert "matricule INS" in refused.text
    bad_oid = await client.post(
        "/api/patients",
        json={**base, "ins_matricule": "285047512345607", "ins_oid": "1.2.3"},
        headers=world.secretary,
    )
    assert bad_oid.status_code == 422 and "OID inconnu" in bad_oid.text
    created = await client.post(
        "/api/patients",
        json={
            **base,
            "ins_matricule": "285047512345607",
            "ins_oid": "1.2.250.1.213.1.4.8",
            "identity_status": "qualifiee",
        },
        headers=world.secretary,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["identity_status"], body["ins_oid"]) == ("qualifiee", "1.2.250.1.213.1.4.8")
    # Dropping the matricule of a qualified identity is refused on update too.
    response = await client.patch(
        f"/api/patients/{body['id']}", json={"ins_matricule": None}, headers=world.secretary
    )
    assert response.status_code == 422
