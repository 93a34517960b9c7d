"""The GP's agenda through the API: order, windows, travel, access."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.practitioners.models import PractitionerStatus
from scheduler import HaversineTravelTime
from tests.gp.helpers import book, local, new_request

# Three patients around Cachan / Arcueil / Bourg-la-Reine (fictitious addresses).
PLACES = [
    dict(address="1 rue Fictive", commune="Cachan", latitude=48.7914, longitude=2.3336),
    dict(address="2 rue Fictive", commune="Arcueil", latitude=48.8058, longitude=2.3363),
    dict(address="3 rue Fictive", commune="Bourg-la-Reine", latitude=48.7800, longitude=2.3160),
]


async def _round(client, world, db):
    """Home visits at 11:00, 10:00 and 10:30 (booked out of order) and one teleconsultation."""
    booked = []
    for hour, minute, place, phone in ((11, 0, 0, "01"), (10, 0, 1, "02"), (10, 30, 2, "03")):
        _patient, request_id = await new_request(
            client, world, db, reason=f"Visite {phone}", phone=f"+336399800{phone}", **PLACES[place]
        )
        booked.append(
            await book(
                client,
                world,
                request_id,
                world.titular.id,
                local(world.today, hour, minute),
                kind="home_visit",
            )
        )
    _patient, request_id = await new_request(client, world, db, reason="Toux")
    tele = await book(client, world, request_id, world.titular.id, local(world.today, 14, 15))
    return booked, tele


async def test_a_gps_day_comes_in_order_with_windows_and_travel(client, world, db):
    booked, tele = await _round(client, world, db)
    response = await client.get(
        "/api/me/agenda", params={"from": world.today.isoformat()}, headers=world.gp
    )
    assert response.status_code == 200, response.text
    day = response.json()["days"][0]
    assert day["date"] == world.today.isoformat()
    visits = next(s for s in day["sessions"] if s["kind"] == "home_visit")
    stops = visits["appointments"]
    # In the order of arrival, not of booking: 10:00 (Arcueil), 10:30, 11:00.
    assert [s["appointment_id"] for s in stops] == [
        booked[1]["id"],
        booked[2]["id"],
        booked[0]["id"],
    ]
    assert [s["order"] for s in stops] == [1, 2, 3]
    first = stops[0]
    assert dt.datetime.fromisoformat(first["window_start"]) == local(world.today, 10)
    assert dt.datetime.fromisoformat(first["window_end"]) == local(world.today, 11)
    assert first["patient"]["phone"] == "+33639980002"
    assert first["patient"]["tel_link"] == "tel:+33639980002"
    assert "Arcueil" in first["patient"]["address"]
    assert first["reason"] == "Visite 02"
    assert first["maps_geo"].startswith("geo:48.805800,2.336300")
    assert "openstreetmap.org" in first["maps_osm"]
    # Travel: from the practice to the first stop, then stop to stop (haversine estimate).
    practice = (world.titular.latitude, world.titular.longitude)
    points = [
        practice,
        (PLACES[1]["latitude"], PLACES[1]["longitude"]),
        (PLACES[2]["latitude"], PLACES[2]["longitude"]),
        (PLACES[0]["latitude"], PLACES[0]["longitude"]),
    ]
    matrix = HaversineTravelTime().matrix(points)
    assert first["travel_from"] == "cabinet"
    assert stops[1]["travel_from"] == "arrêt précédent"
    for i, stop in enumerate(stops):
        assert stop["travel_source"] == "estimate"
        assert stop["travel_minutes_from_previous"] == pytest.approx(matrix[i][i + 1], abs=0.1)
        assert stop["travel_minutes_from_previous"] > 0
    # Estimated arrivals respect the windows and the order.
    arrivals = [dt.datetime.fromisoformat(s["planned_arrival"]) for s in stops]
    assert arrivals == sorted(arrivals)
    for stop, arrival in zip(stops, arrivals, strict=True):
        assert dt.datetime.fromisoformat(stop["window_start"]) <= arrival
    teleconsultations = next(s for s in day["sessions"] if s["kind"] == "teleconsultation")
    assert [a["appointment_id"] for a in teleconsultations["appointments"]] == [tele["id"]]
    assert teleconsultations["appointments"][0]["travel_minutes_from_previous"] is None
    # Reading the agenda is traced per patient.
    reads = (
        await db.scalars(select(AuditEvent.patient_id).where(AuditEvent.action == "agenda"))
    ).all()
    assert len(set(reads)) == 4


async def test_the_published_round_gives_the_order_and_travel(client, world, db):
    rounds_models = pytest.importorskip("app.rounds.models")
    rounds_service = pytest.importorskip("app.rounds.service")
    if not hasattr(rounds_service, "day_rounds"):
        pytest.skip("rounds service without day_rounds")
    booked, _tele = await _round(client, world, db)
    now = local(world.today, 8, 0)
    run = rounds_models.RoundRun(
        date=world.today,
        trigger=rounds_models.RunTrigger.optimise,
        status=rounds_models.RunStatus.succeeded,
        started_at=now,
        finished_at=now,
        time_limit_s=1.0,
        seed=1,
        travel_provider="haversine",
    )
    db.add(run)
    await db.flush()
    # The solver's order: 11:00 first, then 10:30 window… (narrowed windows, its own travel).
    order = [booked[1], booked[0], booked[2]]
    stops = []
    for i, appointment in enumerate(order, start=1):
        arrival = local(world.today, 10, 10 * i)
        stops.append(
            {
                "order": i,
                "appointment_id": appointment["id"],
                "planned_arrival": arrival.isoformat(),
                "window_start": arrival.isoformat(),
                "window_end": (arrival + dt.timedelta(minutes=30)).isoformat(),
                "travel_minutes": 7.5 + i,
            }
        )
    db.add(
        rounds_models.RoundRoute(
            run_id=run.id,
            date=world.today,
            practitioner_id=world.titular.id,
            depart_at=now,
            back_at=local(world.today, 13),
            travel_minutes=30.0,
            stops=stops,
        )
    )
    await db.commit()
    response = await client.get("/api/me/agenda", headers=world.gp)
    visits = next(s for s in response.json()["days"][0]["sessions"] if s["kind"] == "home_visit")
    got = visits["appointments"]
    assert [s["appointment_id"] for s in got] == [a["id"] for a in order]
    assert [s["travel_minutes_from_previous"] for s in got] == [8.5, 9.5, 10.5]
    assert {s["travel_source"] for s in got} == {"rounds"}
    assert dt.datetime.fromisoformat(got[0]["window_end"]) == local(world.today, 10, 40)


async def test_another_gps_agenda_is_forbidden_the_coordinator_sees_all(client, world):
    response = await client.get(
        "/api/me/agenda", params={"practitioner_id": world.other_titular.id}, headers=world.gp
    )
    assert response.status_code == 403
    assert "propre agenda" in response.json()["message"]
    response = await client.get("/api/me/agenda", headers=world.coordinator)
    assert response.status_code == 422  # whose agenda?
    response = await client.get(
        "/api/me/agenda",
        params={"practitioner_id": world.other_titular.id},
        headers=world.coordinator,
    )
    assert response.status_code == 200
    assert response.json()["practitioner_id"] == world.other_titular.id
    response = await client.get("/api/me/agenda", headers=world.secretary)
    assert response.status_code == 403
    response = await client.get("/api/me/agenda")
    assert response.status_code == 401


async def test_an_adjoint_sees_the_titular_on_their_day(client, world):
    response = await client.get("/api/me/agenda", headers=world.adjoint_gp)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == PractitionerStatus.adjoint
    assert body["titular_id"] == world.titular.id
    titular = body["days"][0]["titular"]
    assert titular["name"] == "Dr Claire Martin"
    hours = [(dt.datetime.fromisoformat(s["start_at"]), s["kind"]) for s in titular["sessions"]]
    assert (local(world.today, 10), "home_visit") in hours
    # A titular's agenda has no such block.
    response = await client.get("/api/me/agenda", headers=world.gp)
    assert response.json()["days"][0]["titular"] is None
