"""INT_R02 over HTTP: create, update, idempotent update-or-create, revoke, attach the IDNPS."""

from __future__ import annotations

from sqlalchemy import func, select

from app.accounts.models import Role, User
from app.audit.models import AuditEvent
from tests.factories import token
from tests.sas.fake_sas import load_fixture

IDNPS = "urn:oid:1.2.250.1.71.4.2.1"
SAS = "urn:oid:1.2.250.1.213.3.6"
NATIONAL = "810000000417"  # the fixtures' fictitious regulator
TECHNICAL = "5d0c8c6c-2b4e-4f57-9b1e-1f0f3f6c2a11"
FHIR_JSON = {"Content-Type": "application/fhir+json"}


def _technical_only(active: bool = True) -> dict:
    body = load_fixture("regulator-national")
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
    body = load_fixture("regulator-national")
    response = await client.post("/fhir/Practitioner", json=body, headers={**fhir, **FHIR_JSON})
    assert response.status_code == 201, response.text
    location = response.headers["location"]
    assert location.startswith("http://test/fhir/Practitioner/")
    users = await _users(db)
    assert len(users) == 1
    user = users[0]
    assert (user.role, user.national_id, user.active) == (Role.regulator, NATIONAL, True)
    assert user.email == body["telecom"][0]["value"].lower()
    assert location.endswith(f"/{user.id}")
    again = await client.post("/fhir/Practitioner", json=body, headers={**fhir, **FHIR_JSON})
    assert again.status_code == 200
    assert again.headers["location"] == location
    assert len(await _users(db)) == 1
    read = await client.get(f"/fhir/Practitioner/{user.id}", headers=fhir)
    assert read.status_code == 200
    assert read.json()["identifier"][0]["value"] == NATIONAL


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
            "value": NATIONAL,
        }
    )
    body["name"] = [{"family": "Nouveau", "given": ["Nom"]}]
    updated = await client.put(url, json=body, headers={**fhir, **FHIR_JSON})
    assert updated.status_code == 200, updated.text
    [user] = await _users(db)
    assert (user.sas_technical_id, user.national_id) == (TECHNICAL, NATIONAL)
    assert user.full_name == "Nom Nouveau"
    # Now addressable by either identifier.
    by_national = await client.put(
        f"/fhir/Practitioner?identifier={IDNPS}|{NATIONAL}",
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
    no_email = load_fixture("regulator-national")
    no_email = {**no_email, "telecom": []}
    response = await client.post("/fhir/Practitioner", json=no_email, headers={**fhir, **FHIR_JSON})
    assert response.status_code == 422
    assert response.json()["issue"][0]["code"] == "required"
    # Two identifiers naming two different accounts cannot be merged.
    first = load_fixture("regulator-national")
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


# --- FrPractitionerRegul rules (issue 17): refused, nothing left behind, then accepted -----

FR_CORE_V2_0203 = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"


async def _nothing_stored(db) -> None:
    users = await db.scalar(select(func.count(User.id)))
    events = await db.scalar(select(func.count(AuditEvent.id)))
    await db.rollback()
    assert (users, events) == (0, 0)


async def _refused_then_accepted(client, db, fhir, bad, good, *, expression, url=None):
    """The bad body is a 422 OperationOutcome that stores nothing; the good one, sent the
    same way for the same account, then creates it (201, not 200: nothing was there)."""
    method = "PUT" if url else "POST"
    url = url or "/fhir/Practitioner"
    headers = {**fhir, **FHIR_JSON}
    response = await client.request(method, url, json=bad, headers=headers)
    assert response.status_code == 422, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["expression"] == [expression]
    await _nothing_stored(db)
    response = await client.request(method, url, json=good, headers=headers)
    assert response.status_code == 201, response.text
    assert len(await _users(db)) == 1


async def test_a_foreign_meta_source_is_refused(client, db, fhir):
    bad = _technical_only()
    bad["meta"]["source"] = "urn:oid:1.2.250.1.71.4.2.2"
    await _refused_then_accepted(
        client,
        db,
        fhir,
        bad,
        _technical_only(),
        expression="Practitioner.meta.source",
        url=f"/fhir/Practitioner?identifier={SAS}|{TECHNICAL}",
    )


async def test_a_national_id_typed_intrn_is_refused(client, db, fhir):
    good = load_fixture("regulator-national")
    bad = load_fixture("regulator-national")
    bad["identifier"][0]["type"] = {"coding": [{"system": FR_CORE_V2_0203, "code": "INTRN"}]}
    await _refused_then_accepted(
        client, db, fhir, bad, good, expression="Practitioner.identifier.type"
    )


async def test_a_technical_id_typed_idnps_is_refused(client, db, fhir):
    bad = _technical_only()
    bad["identifier"][0]["type"]["coding"][0]["code"] = "IDNPS"
    await _refused_then_accepted(
        client,
        db,
        fhir,
        bad,
        _technical_only(),
        expression="Practitioner.identifier.type",
        url=f"/fhir/Practitioner?identifier={SAS}|{TECHNICAL}",
    )


async def test_the_guides_structure_oid_form_is_still_accepted(client, db, fhir):
    body = load_fixture("regulator-structure-idnps")
    response = await client.post("/fhir/Practitioner", json=body, headers={**fhir, **FHIR_JSON})
    assert response.status_code == 201, response.text
    [user] = await _users(db)
    assert user.national_id == "3400000099/00000042"


async def test_a_name_without_family_is_refused(client, db, fhir):
    bad = load_fixture("regulator-national")
    del bad["name"][0]["family"]
    await _refused_then_accepted(
        client,
        db,
        fhir,
        bad,
        load_fixture("regulator-national"),
        expression="Practitioner.name.family",
    )


async def test_a_name_without_given_is_refused(client, db, fhir):
    bad = load_fixture("regulator-national")
    del bad["name"][0]["given"]
    await _refused_then_accepted(
        client,
        db,
        fhir,
        bad,
        load_fixture("regulator-national"),
        expression="Practitioner.name.given",
    )


async def test_a_practitioner_without_any_name_is_accepted(client, db, fhir):
    body = load_fixture("regulator-national")
    del body["name"]
    response = await client.post("/fhir/Practitioner", json=body, headers={**fhir, **FHIR_JSON})
    assert response.status_code == 201, response.text


async def test_active_and_email_stay_mandatory(client, db, fhir):
    for key, expression in (("active", "Practitioner.active"), ("telecom", "Practitioner.telecom")):
        bad = load_fixture("regulator-national")
        del bad[key]
        response = await client.post("/fhir/Practitioner", json=bad, headers={**fhir, **FHIR_JSON})
        assert response.status_code == 422, response.text
        assert response.json()["issue"][0]["expression"] == [expression]
    await _refused_then_accepted(
        client,
        db,
        fhir,
        {**load_fixture("regulator-national"), "active": None},
        load_fixture("regulator-national"),
        expression="Practitioner.active",
    )


async def test_a_deeply_nested_body_is_a_400_outcome(client, db, fhir):
    body = '{"resourceType": "Practitioner", "name": ' + "[" * 5000 + "]" * 5000 + "}"
    response = await client.post(
        "/fhir/Practitioner", content=body.encode(), headers={**fhir, **FHIR_JSON}
    )
    assert response.status_code == 400, response.text
    assert response.json()["resourceType"] == "OperationOutcome"
    await _nothing_stored(db)
