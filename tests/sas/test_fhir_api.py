"""INT_R04 through the HTTP API: the SAS's own searches, the bundle it gets, its refusals."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import select

from app.core.timeutil import PARIS
from app.demo import seed as demo_seed
from app.practitioners.models import Practitioner
from app.sas import SasSettings, check_slot_bundle, validate
from app.sas.wiring import configure
from tests.factories import make_patient, make_user, token
from tests.sas.conftest import FHIR_TOKEN
from tests.sas.fake_sas import EXAMPLE_SLOT_QUERY, slot_search_params
from tests.sas.world import local, sas_gp

IDNPS = "urn:oid:1.2.250.1.71.4.2.1"


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(PARIS).isoformat(timespec="milliseconds")


async def _search(client, headers, identifiers, start, end) -> httpx.Response:
    return await client.get(
        "/fhir/Slot",
        params=slot_search_params(identifiers, _iso(start), _iso(end)),
        headers=headers,
    )


def _entries(bundle: dict, resource_type: str) -> list[dict]:
    return [
        e["resource"]
        for e in bundle.get("entry", [])
        if e["resource"]["resourceType"] == resource_type
    ]


def _assert_conforming(bundle: dict) -> None:
    assert check_slot_bundle(bundle) == []
    validate(bundle)  # fhir.resources R4B parse + our profile checks
    for entry in bundle.get("entry", []):
        validate(entry["resource"])


async def test_metadata_is_a_capability_statement(client, fhir):
    response = await client.get("/fhir/metadata", headers=fhir)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    assert body["resourceType"] == "CapabilityStatement"
    assert {r["type"] for r in body["rest"][0]["resource"]} == {"Slot", "Practitioner"}
    validate(body)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {FHIR_TOKEN}"}],
    ids=["none", "wrong", "not-bearer"],
)
async def test_every_fhir_call_needs_the_token(client, headers):
    for method, path in (
        ("GET", "/fhir/metadata"),
        ("GET", "/fhir/Slot"),
        ("POST", "/fhir/Practitioner"),
        ("PUT", "/fhir/Practitioner"),
    ):
        response = await client.request(method, path, headers=headers)
        assert response.status_code == 401, (path, response.text)
        assert response.json()["resourceType"] == "OperationOutcome"
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_without_a_configured_token_fhir_refuses_everything(app, client, fhir):
    configure(app, SasSettings(_env_file=None, sas_api_token=""))
    response = await client.get("/fhir/metadata", headers=fhir)
    assert response.status_code == 401
    assert "SAS_API_TOKEN" in response.json()["issue"][0]["diagnostics"]


async def test_client_certificate_subject_is_trusted_only_from_the_proxy(app, fhir):
    subject = "CN=sas.sante.fr,OU=SAS,O=ANS,C=FR"
    configure(
        app,
        SasSettings(_env_file=None, sas_api_token=FHIR_TOKEN, sas_trusted_proxy="10.0.0.5"),
    )
    header = {**fhir, "X-SSL-Client-S-DN": subject}
    # Straight to the app (not through the proxy): a forged header proves nothing.
    direct = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    async with httpx.AsyncClient(transport=direct, base_url="http://test") as http:
        response = await http.get("/fhir/metadata", headers=header)
        assert response.status_code == 401
        assert response.json()["issue"][0]["code"] == "security"
    proxy = httpx.ASGITransport(app=app, client=("10.0.0.5", 40000))
    async with httpx.AsyncClient(transport=proxy, base_url="http://test") as http:
        assert (await http.get("/fhir/metadata", headers=header)).status_code == 200
        # Through the proxy but without a verified certificate: refused.
        assert (await http.get("/fhir/metadata", headers=fhir)).status_code == 401
        # The certificate does not replace the token.
        assert (
            await http.get("/fhir/metadata", headers={"X-SSL-Client-S-DN": subject})
        ).status_code == 401


async def test_the_specification_example_query(client, db, clock, fhir):
    """The INT_R04 example, verbatim, on the guide's own dates and practitioners."""
    clock.set(dt.datetime(2024, 6, 12, 14, 0, tzinfo=PARIS))
    today = dt.date(2024, 6, 12)  # a Wednesday
    first = await sas_gp(db, today, rpps="10002909371", family_name="Martin")
    second = await sas_gp(db, today, rpps="10001288385", family_name="Bernard")
    response = await client.get(f"/fhir/Slot?{EXAMPLE_SLOT_QUERY}", headers=fhir)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle = response.json()
    # Wed from 16:30 (14 slots), Thu and Fri 14:00–20:00 (24 each), Sat until 16:15 (10).
    assert bundle["total"] == 2 * (14 + 24 + 24 + 10)
    slots = _entries(bundle, "Slot")
    assert len(slots) == bundle["total"]
    assert min(s["start"] for s in slots) == "2024-06-12T16:30:00.000+02:00"
    assert max(s["start"] for s in slots) == "2024-06-15T16:15:00.000+02:00"
    assert {s["comment"] for s in slots} == {
        f"http://test/sas/praticiens/{first.id}",
        f"http://test/sas/praticiens/{second.id}",
    }
    values = {p["identifier"][0]["value"] for p in _entries(bundle, "Practitioner")}
    assert values == {"810002909371", "810001288385"}
    for kind in ("Schedule", "PractitionerRole", "HealthcareService", "Organization"):
        assert _entries(bundle, kind), kind
    assert [link["relation"] for link in bundle["link"]] == ["self"]
    _assert_conforming(bundle)


async def test_prefixed_and_unprefixed_ids_find_the_same_gp(client, db, clock, fhir):
    today = clock().astimezone(PARIS).date()
    gp = await sas_gp(db, today)
    start, end = local(today, 14), local(today, 16)
    found = []
    for identifier in (f"{IDNPS}|8{gp.rpps}", f"{IDNPS}|{gp.rpps}", gp.rpps):
        response = await _search(client, fhir, [identifier], start, end)
        assert response.status_code == 200, response.text
        bundle = response.json()
        assert bundle["total"] == 9  # 14:00 … 16:00, both bounds included
        found.append({s["id"] for s in _entries(bundle, "Slot")})
        assert _entries(bundle, "Practitioner")[0]["identifier"][0]["value"] == f"8{gp.rpps}"
    assert found[0] == found[1] == found[2]


async def test_twenty_five_practitioners_in_one_search(client, db, clock, fhir):
    today = clock().astimezone(PARIS).date()
    gps = [await sas_gp(db, today, family_name=f"Medecin{i}") for i in range(25)]
    ids = [f"8{gp.rpps}" for gp in gps]
    response = await _search(client, fhir, ids, local(today, 14), local(today, 15))
    assert response.status_code == 200, response.text
    bundle = response.json()
    assert bundle["total"] == 25 * 5  # 14:00 … 15:00 inclusive, per GP
    assert len(_entries(bundle, "Practitioner")) == 25
    _assert_conforming(bundle)
    response = await _search(
        client, fhir, [*ids, "810000000026"], local(today, 14), local(today, 15)
    )
    assert response.status_code == 400
    assert response.json()["issue"][0]["code"] == "too-costly"


# INT_R04 (test kit, agg-psindiv@45): milliseconds and the offset, always, never "Z".
SLOT_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$")


@pytest.mark.parametrize(
    ("start_day", "open_days", "offsets"),
    [
        (dt.date(2026, 12, 10), 3, {"+01:00"}),  # Thu → Sun: Thu, Fri, Sat
        (dt.date(2026, 6, 18), 3, {"+02:00"}),
        # Sat 24 → Tue 27 October 2026: summer time ends on the Sunday; Sat and Mon open.
        (dt.date(2026, 10, 24), 2, {"+01:00", "+02:00"}),
    ],
    ids=["winter", "summer", "clock-change"],
)
async def test_every_slot_instant_of_a_72_hour_search_has_milliseconds_and_offset(
    client, db, clock, fhir, start_day, open_days, offsets
):
    """25 GPs over 72 hours: every Slot.start/end in the form the SAS test kit demands."""
    clock.set(local(start_day, 8))
    gps = [
        await sas_gp(db, start_day, family_name=f"Medecin{i}", rpps=f"{10000000100 + i:011d}")
        for i in range(25)
    ]
    start = local(start_day, 8)
    end = start + dt.timedelta(hours=72)
    response = await _search(client, fhir, [f"8{gp.rpps}" for gp in gps], start, end)
    assert response.status_code == 200, response.text
    bundle = response.json()
    slots = _entries(bundle, "Slot")
    assert len(slots) == bundle["total"] == 25 * open_days * 24  # 14:00–20:00 by 15 min
    seen = set()
    for slot in slots:
        for name in ("start", "end"):
            value = slot[name]
            assert SLOT_INSTANT.fullmatch(value), value
            moment = dt.datetime.fromisoformat(value)
            # The offset written is Paris's at that instant (+01:00 winter, +02:00 summer).
            assert moment.utcoffset() == moment.astimezone(PARIS).utcoffset(), value
            assert value.endswith(".000" + value[-6:])
            seen.add(value[-6:])
    assert seen == offsets
    _assert_conforming(bundle)  # fhir.resources parses the whole bundle


async def test_nothing_free_is_total_zero(client, db, clock, fhir):
    today = clock().astimezone(PARIS).date()
    closed = await sas_gp(db, today, open_to_sas=False)
    for identifiers in ([f"8{closed.rpps}"], ["812345678901"]):
        response = await _search(client, fhir, identifiers, local(today, 8), local(today, 22))
        assert response.status_code == 200, response.text
        bundle = response.json()
        assert bundle["total"] == 0
        assert "entry" not in bundle
        assert bundle["type"] == "searchset"
        _assert_conforming(bundle)


@pytest.mark.parametrize("missing", ["ge", "le", "schedule.actor", "status"])
async def test_a_missing_mandatory_parameter_is_a_400(client, fhir, missing):
    params = [
        (k, v)
        for k, v in slot_search_params(
            ["810002909371"], "2026-12-07T08:00:00+01:00", "2026-12-08T08:00:00+01:00"
        )
        if not (k.startswith(missing) or v.startswith(missing))
    ]
    response = await client.get("/fhir/Slot", params=params, headers=fhir)
    assert response.status_code == 400
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "required"
    validate(outcome)


@pytest.mark.parametrize(
    "query",
    [
        "start=geabc&start=le2026-12-08&status=free&schedule.actor:Practitioner.identifier=1",
        "start=ge2026-12-07&start=le2026-12-08&status=free"
        "&schedule.actor:Practitioner.identifier=urn:oid:9.9|810002909371",
        "start=ge2026-12-07&start=le2027-12-08&status=free"
        "&schedule.actor:Practitioner.identifier=810002909371",
        "start=ge9999-12-30&start=le9999-12-31&status=free"
        "&schedule.actor:Practitioner.identifier=810002909371",
        "start=ge2026-12-07&start=le2026-12-08&status=busy"
        "&schedule.actor:Practitioner.identifier=810002909371",
        "start=ge2026-13-07&start=le2026-12-08&status=free"
        "&schedule.actor:Practitioner.identifier=810002909371",
    ],
)
async def test_a_malformed_search_is_a_400_never_a_500(client, fhir, query):
    response = await client.get(f"/fhir/Slot?{query}", headers=fhir)
    assert response.status_code == 400, response.text
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_unknown_resources_and_bad_bodies_are_operation_outcomes(client, fhir):
    cases = [
        ("GET", "/fhir/Patient", None, {}, 404),
        ("DELETE", "/fhir/Slot", None, {}, 405),
        ("GET", "/fhir/Practitioner/999999", None, {}, 404),
        ("GET", "/fhir/Practitioner/abc", None, {}, 404),
        ("POST", "/fhir/Practitioner", b"not json", {"Content-Type": "application/fhir+json"}, 400),
        ("POST", "/fhir/Practitioner", b"{}", {"Content-Type": "text/plain"}, 415),
        ("POST", "/fhir/Practitioner", b"[1]", {"Content-Type": "application/json+fhir"}, 400),
        ("PUT", "/fhir/Practitioner", b"{}", {"Content-Type": "application/fhir+json"}, 400),
    ]
    for method, path, body, extra, status in cases:
        response = await client.request(method, path, content=body, headers={**fhir, **extra})
        assert response.status_code == status, (method, path, response.text)
        assert response.json()["resourceType"] == "OperationOutcome", path


async def test_other_surfaces_keep_their_own_errors(client):
    response = await client.get("/api/patients/1")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"  # the JSON API's shape, not FHIR's


async def test_a_slot_taken_by_the_secretariat_disappears(client, db, clock, fhir):
    today = clock().astimezone(PARIS).date()
    gp = await sas_gp(db, today)
    await make_user(db, "secretaire", "secretary")
    secretary = await token(client, "secretaire")
    start, end = local(today, 14), local(today, 20)
    before = (await _search(client, fhir, [f"8{gp.rpps}"], start, end)).json()
    taken = local(today, 15, 30)
    assert any(s["start"] == _iso(taken) for s in _entries(before, "Slot"))
    patient = await make_patient(db)
    response = await client.post(
        "/api/requests", json={"patient_id": patient.id, "reason": "Fièvre"}, headers=secretary
    )
    assert response.status_code == 201, response.text
    response = await client.post(
        "/api/appointments",
        json={
            "request_id": response.json()["request"]["id"],
            "practitioner_id": gp.id,
            "start_at": taken.isoformat(),
            "kind": "teleconsultation",
        },
        headers=secretary,
    )
    assert response.status_code == 201, response.text
    after = (await _search(client, fhir, [f"8{gp.rpps}"], start, end)).json()
    assert after["total"] == before["total"] - 1
    assert "2026-12-07T15:30:00.000+01:00" not in {s["start"] for s in _entries(after, "Slot")}


async def test_demo_territory_every_gp_has_free_slots_in_the_next_three_days(
    client, db, clock, fhir
):
    today = clock().astimezone(PARIS).date()
    assert await demo_seed.seed(session=db, today=today, horizon_days=7)
    await db.commit()
    practitioners = (await db.scalars(select(Practitioner))).all()
    assert len(practitioners) == 11
    now = clock()
    for practitioner in practitioners:
        response = await _search(
            client, fhir, [f"8{practitioner.rpps}"], now, now + dt.timedelta(days=3)
        )
        assert response.status_code == 200, response.text
        bundle = response.json()
        assert bundle["total"] > 0, practitioner.family_name
        assert {s["serviceType"][0]["coding"][0]["code"] for s in _entries(bundle, "Slot")} == {
            "VR"
        }
    # The example query's own encoding ("+" left raw) is read the same way.
    raw = quote(f"{IDNPS}|8{practitioners[0].rpps}", safe="|:")
    response = await client.get(
        f"/fhir/Slot?status=free&start=ge{_iso(now)}&start=le{_iso(now + dt.timedelta(days=3))}"
        f"&schedule.actor:Practitioner.identifier={raw}",
        headers=fhir,
    )
    assert response.status_code == 200 and response.json()["total"] > 0, response.text
