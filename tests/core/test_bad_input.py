"""Input that once answered 500 (issue 20, finding 2): each now a 4xx with a French message."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest

from tests.factories import make_patient

HUGE_IDS = ["2147483648", "9223372036854775808", str(2**70)]


def _french(response: httpx.Response) -> str:
    message = response.json()["message"]
    assert message and "Error" not in message
    return message


@pytest.mark.parametrize("huge", HUGE_IDS)
async def test_ids_beyond_the_database_integer_range(client, world, huge):
    for method, path in [
        ("GET", f"/api/patients/{huge}"),
        ("PATCH", f"/api/patients/{huge}"),
        ("GET", f"/api/requests/{huge}"),
        ("GET", f"/api/appointments/{huge}"),
        ("GET", f"/api/practitioners/{huge}/free-slots"),
        ("POST", f"/api/appointments/{huge}/cancel"),
    ]:
        response = await client.request(method, path, headers=world.secretary, json={})
        assert response.status_code < 500, (method, path, response.text)
        if path.startswith("/api/patients"):
            assert response.status_code in (404, 422), response.text
        if response.status_code >= 400:
            _french(response)
    response = await client.get(
        "/api/orientation/cases", params={"offset": huge}, headers=world.coordinator
    )
    assert response.status_code in (200, 422), response.text  # 2^31 is a valid offset on SQLite


async def test_year_one_in_date_parameters(client, world):
    pid = world.titular.id
    for path, params in [
        (f"/api/practitioners/{pid}/free-slots", {"from": "0001-01-01"}),
        (f"/api/practitioners/{pid}/sessions", {"from": "0001-01-01", "to": "0001-01-02"}),
        (f"/api/practitioners/{pid}/agenda", {"from": "0001-01-01"}),
        (f"/api/practitioners/{pid}/free-slots", {"from": "9999-12-31", "days": "14"}),
    ]:
        response = await client.get(path, params=params, headers=world.secretary)
        assert response.status_code in (200, 422), (path, response.text)
        if response.status_code == 422:
            _french(response)
    response = await client.post(
        "/api/rounds/0001-01-01/delay",
        json={"practitioner_id": pid, "minutes": 10},
        headers=world.coordinator,
    )
    assert response.status_code in (404, 409, 422), response.text
    _french(response)
    response = await client.get(
        "/api/me/sessions", params={"from": "0001-01-01", "to": "0001-01-03"}, headers=world.gp
    )
    assert response.status_code in (200, 422), response.text


async def test_a_home_visit_window_ending_before_it_starts(client, world, db):
    patient = await make_patient(db)
    start = dt.datetime.combine(world.today, dt.time(11), tzinfo=dt.UTC)
    created = await client.post(
        "/api/requests",
        json={"patient_id": patient.id, "reason": "Fièvre", "modality": "home_visit"},
        headers=world.secretary,
    )
    request_id = created.json().get("id", 1)
    body = {
        "request_id": request_id,
        "practitioner_id": world.titular.id,
        "kind": "home_visit",
        "start_at": start.isoformat(),
        "end_at": (start - dt.timedelta(hours=1)).isoformat(),
    }
    response = await client.post("/api/appointments", json=body, headers=world.secretary)
    assert response.status_code == 422, response.text
    assert "la fin doit être postérieure au début" in _french(response)
    body.pop("request_id")
    response = await client.post(
        f"/api/requests/{request_id}/proposals/book", json=body, headers=world.secretary
    )
    assert response.status_code == 422, response.text
    assert "la fin doit être postérieure au début" in _french(response)


@pytest.mark.parametrize(
    "change",
    [
        {"css": None},
        {"language": None},
        {"ald": None},
        {"medecin_traitant_status": None},
        {"language": "x" * 200},
        {"latitude": 1e300},
        {"longitude": -200},
        {"commune_insee": "abc"},
        {"address": "x" * 1000},
    ],
)
async def test_patient_update_is_checked_like_creation(client, world, db, change):
    patient = await make_patient(db)
    response = await client.patch(
        f"/api/patients/{patient.id}", json=change, headers=world.secretary
    )
    assert response.status_code == 422, response.text
    _french(response)


async def test_patient_update_still_accepts_good_values(client, world, db):
    patient = await make_patient(db)
    response = await client.patch(
        f"/api/patients/{patient.id}",
        json={"language": " AR ", "latitude": 48.8, "phone": None, "css": True},
        headers=world.secretary,
    )
    assert response.status_code == 200, response.text
    assert response.json()["language"] == "ar"
    assert response.json()["phone"] is None


async def test_nul_character_in_text(client, world, is_postgres):
    response = await client.post(
        "/api/patients",
        json={"family_name": "Du\x00pont", "given_name": "Ana", "birth_date": "1990-01-01"},
        headers=world.secretary,
    )
    assert response.status_code in (201, 422) if not is_postgres else (422,), response.text
    if is_postgres:
        assert "Caractère nul" in _french(response)
    response = await client.get(
        "/api/patients", params={"name": "Du\x00pont"}, headers=world.secretary
    )
    assert response.status_code in (200, 422) if not is_postgres else (422,), response.text


async def test_territory_gp_lists_and_flags_cannot_be_nulled(client, world):
    created = await client.post(
        "/api/orientation/territory-gps",
        json={
            "family_name": "Roux",
            "given_name": "Paul",
            "rpps": "10000000009",
            "address": "1 rue Fictive",
            "postal_code": "94230",
            "commune": "Cachan",
            "latitude": 48.79,
            "longitude": 2.33,
        },
        headers=world.coordinator,
    )
    assert created.status_code == 201, created.text
    gp_id = created.json()["id"]
    for change in ({"languages": None}, {"communes_covered": None}, {"active": None}):
        response = await client.patch(
            f"/api/orientation/territory-gps/{gp_id}", json=change, headers=world.coordinator
        )
        assert response.status_code == 422, response.text
        _french(response)
    response = await client.patch(
        f"/api/orientation/territory-gps/{gp_id}",
        json={"languages": [" EN ", "fr"]},
        headers=world.coordinator,
    )
    assert response.status_code == 200, response.text
    assert response.json()["languages"] == ["en", "fr"]


async def test_concurrent_creations_with_one_nir_conflict_not_crash(app, world):
    body = {
        "family_name": "Lemaire",
        "given_name": "Rose",
        "birth_date": "1975-03-02",
        "nir": "275039410000146",
        "confirm_duplicate": True,
    }
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        responses = await asyncio.gather(
            *(http.post("/api/patients", json=body, headers=world.secretary) for _ in range(20))
        )
    statuses = sorted(r.status_code for r in responses)
    assert 500 not in statuses, [r.text for r in responses if r.status_code == 500][:1]
    assert statuses.count(201) == 1, statuses
    for response in responses:
        if response.status_code != 201:
            assert response.status_code in (409, 422), response.text
            _french(response)
