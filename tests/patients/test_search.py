"""Patient search: a name alone for the front desk, accents and typos tolerated, audited."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.audit.models import AuditEvent
from tests.factories import make_patient


async def _patients(db) -> None:
    await make_patient(db, family_name="Lefebvre", given_name="Jean", phone="+33639980011")
    await make_patient(db, family_name="Lefèvre", given_name="Anne", phone="+33639980012")
    await make_patient(
        db, family_name="Martin", given_name="Hélène", birth_date=dt.date(1950, 1, 2), phone=None
    )


async def test_secretary_finds_by_name_alone_with_a_typo_or_without_accents(db, client, world):
    await _patients(db)
    found = await client.get("/api/patients", params={"name": "Lefebre"}, headers=world.secretary)
    assert found.status_code == 200, found.text
    names = [p["family_name"] for p in found.json()]
    assert names[0] == "Lefebvre" and "Martin" not in names
    accents = await client.get(
        "/api/patients", params={"name": "lefevre"}, headers=world.coordinator
    )
    assert [p["family_name"] for p in accents.json()][0] == "Lefèvre"
    given = await client.get("/api/patients", params={"name": "HELENE"}, headers=world.secretary)
    assert [p["given_name"] for p in given.json()] == ["Hélène"]
    nothing = await client.get("/api/patients", params={"name": "Zorglub"}, headers=world.secretary)
    assert nothing.json() == []


async def test_other_roles_keep_name_and_birth_date(db, client, world):
    await _patients(db)
    refused = await client.get("/api/patients", params={"name": "Martin"}, headers=world.gp)
    assert refused.status_code == 422
    assert "date de naissance" in refused.text
    allowed = await client.get(
        "/api/patients",
        params={"name": "Martin", "birth_date": "1950-01-02"},
        headers=world.gp,
    )
    assert allowed.status_code == 200 and allowed.json() == []  # a GP reads whom they saw


async def test_at_most_twenty_results_and_each_search_audited(db, client, world):
    for n in range(25):
        await make_patient(db, family_name="Durand", given_name=f"P{n:02d}", phone=None)
    found = await client.get("/api/patients", params={"name": "Durand"}, headers=world.secretary)
    assert len(found.json()) == 20
    await client.get("/api/patients", params={"name": "Durant"}, headers=world.secretary)
    searches = (
        await db.scalars(select(AuditEvent).where(AuditEvent.entity_type == "patient_search"))
    ).all()
    assert [e.detail["results"] for e in searches] == [20, 20]
    assert all(e.username == "secretaire" and "Durand" not in str(e.detail) for e in searches)
