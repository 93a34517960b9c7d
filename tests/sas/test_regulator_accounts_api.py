"""INT_R02 over HTTP: create, update, idempotent update-or-create, revoke, attach the IDNPS."""

from __future__ import annotations

import copy

from sqlalchemy import func, select

from app.accounts.models import Role, User
from tests.factories import token
from tests.sas.fake_sas import load_example

IDNPS = "urn:oid:1.2.250.1.71.4.2.1"
SAS = "urn:oid:1.2.250.1.213.3.6"
TECHNICAL = "5d0c8c6c-2b4e-4f57-9b1e-1f0f3f6c2a11"
FHIR_JSON = {"Content-Type": "application/fhir+json"}


def _technical_only(active: bool = True) -> dict:
    body = copy.deepcopy(load_example("Practitioner-ExamplePractitionerRegul2"))
    body["meta"] = {"source": SAS}
    body["identifier"] = [
        {
            "type": {
                "coding": [
                    {
                        "system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203",
                        "code": "INTRN",
                    }
                ]
            },
            "system": SAS,
            "value": TECHNICAL,
        }
    ]
    body["active"] = active
    return body


async def _users(db) -> list[User]:
    rows = (await db.scalars(select(User).order_by(User.id))).all()
    db.expunge_all()  # detached: readable after the rollback that ends the snapshot
    await db.rollback()
    return list(rows)


async def test_create_then_the_same_post_again_updates(client, db, fhir):
    body = load_example("Practitioner-ExamplePractitionerRegul2")
    response = await client.post("/fhir/Practitioner", json=body, headers={**fhir, **FHIR_JSON})
    assert response.status_code == 201, response.text
    location = response.headers["location"]
    assert location.startswith("http://test/fhir/Practitioner/")
    users = await _users(db)
    assert len(users) == 1
    user = users[0]
    assert (user.role, user.national_id, user.active) == (Role.regulator, "810002673899", True)
    assert user.email == body["telecom"][0]["value"].lower()
    assert location.endswith(f"/{user.id}")
    again = await client.post("/fhir/Practitioner", json=body, headers={**fhir, **FHIR_JSON})
    assert again.status_code == 200
    assert again.headers["location"] == location
    assert len(await _users(db)) == 1
    read = await client.get(f"/fhir/Practitioner/{user.id}", headers=fhir)
    assert read.status_code == 200
    assert read.json()["identifier"][0]["value"] == "810002673899"


async def test_update_and_idempotent_update_or_create(client, db, fhir):
    url = f"/fhir/Practitioner?identifier={SAS}|{TECHNICAL}"
    created = await client.put(url, json=_technical_only(), headers={**fhir, **FHIR_JSON})
    assert created.status_code == 201, created.text  # unknown account: the update creates it
    location = created.headers["location"]
    repeated = await client.put(url, json=_technical_only(), headers={**fhir, **FHIR_JSON})
    assert repeated.status_code == 200
    assert repeated.headers["location"] == location
    assert len(await _users(db)) == 1
    # A later update attaches the national id to the account created with the technical id.
    body = _technical_only()
    body["identifier"].append(
        {
            "type": {
                "coding": [
                    {
                        "system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203",
                        "code": "IDNPS",
                    }
                ]
            },
            "system": IDNPS,
            "value": "810002673899",
        }
    )
    body["name"] = [{"family": "Nouveau", "given": ["Nom"]}]
    updated = await client.put(url, json=body, headers={**fhir, **FHIR_JSON})
    assert updated.status_code == 200, updated.text
    [user] = await _users(db)
    assert (user.sas_technical_id, user.national_id) == (TECHNICAL, "810002673899")
    assert user.full_name == "Nom Nouveau"
    # Now addressable by either identifier.
    by_national = await client.put(
        f"/fhir/Practitioner?identifier={IDNPS}|810002673899",
        json=body,
        headers={**fhir, **FHIR_JSON},
    )
    assert by_national.status_code == 200
    assert by_national.headers["location"] == location


async def test_revoke_withdraws_rights_at_once(client, db, fhir):
    url = f"/fhir/Practitioner?identifier={SAS}|{TECHNICAL}"
    assert (
        await client.put(url, json=_technical_only(), headers={**fhir, **FHIR_JSON})
    ).status_code == 201
    [user] = await _users(db)
    # Give the account a known password to get a token, as a reset would.
    from app.core.security import hash_password
    from tests.factories import PASSWORD

    user.password_hash = hash_password(PASSWORD)
    await db.merge(user)
    await db.commit()
    headers = await token(client, user.username)
    assert (await client.get("/api/me", headers=headers)).status_code == 200
    response = await client.put(url, json=_technical_only(False), headers={**fhir, **FHIR_JSON})
    assert response.status_code == 200
    assert response.json()["active"] is False
    [user] = await _users(db)
    assert user.active is False
    assert (await client.get("/api/me", headers=headers)).status_code == 401


async def test_business_rule_violations_are_422(client, db, fhir):
    no_email = load_example("Practitioner-ExamplePractitionerRegul2")
    no_email = {**no_email, "telecom": []}
    response = await client.post("/fhir/Practitioner", json=no_email, headers={**fhir, **FHIR_JSON})
    assert response.status_code == 422
    assert response.json()["issue"][0]["code"] == "required"
    # Two identifiers naming two different accounts cannot be merged.
    first = load_example("Practitioner-ExamplePractitionerRegul2")
    assert (
        await client.post("/fhir/Practitioner", json=first, headers={**fhir, **FHIR_JSON})
    ).status_code == 201
    assert (
        await client.put(
            f"/fhir/Practitioner?identifier={SAS}|{TECHNICAL}",
            json=_technical_only(),
            headers={**fhir, **FHIR_JSON},
        )
    ).status_code == 201
    both = _technical_only()
    both["identifier"] += first["identifier"]
    response = await client.put(
        f"/fhir/Practitioner?identifier={SAS}|{TECHNICAL}", json=both, headers={**fhir, **FHIR_JSON}
    )
    assert response.status_code == 422
    assert response.json()["resourceType"] == "OperationOutcome"
    count = await db.scalar(select(func.count(User.id)))
    assert count == 2
