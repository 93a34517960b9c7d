"""Optimise and publish the rounds, a GP's delay, the worker job and absorbable windows."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from app.appointments.models import Appointment
from app.core.timeutil import PARIS, at, day_bounds
from app.practitioners.models import DutySession, SessionKind
from app.rounds import service as rounds_service
from app.rounds.config import RoundsSettings
from app.rounds.planner import Planner
from app.rounds.wiring import JOB_NAME, optimise_before_session_job
from tests.rounds.conftest import (
    book_visit,
    local,
    new_patient,
    new_request,
    travel_minutes,
)

TOL = 1.0  # minutes: plans are timed in whole minutes
SPREAD = {
    "titular": (("Moreau", "Fresnes"), ("Roux", "Rungis"), ("Blanc", "Chevilly-Larue")),
    "adjoint": (("Noel", "L'Haÿ-les-Roses"), ("Perrin", "Cachan")),
}


async def _morning(client, world, db) -> dict[int, tuple[float, float]]:
    """Five visits promised 10:00–13:00 (wide), three for Dr Martin, two for Dr Garnier."""
    where = {}
    for who, people in SPREAD.items():
        gp = world.titular if who == "titular" else world.adjoint
        for name, commune in people:
            patient = await new_patient(db, name, commune)
            request = await new_request(client, world.secretary, patient.id, modality="home_visit")
            booked = await book_visit(
                client,
                world.secretary,
                request["id"],
                gp.id,
                world.today,
                dt.time(10),
                dt.time(13),
            )
            where[booked["id"]] = (patient.latitude, patient.longitude)
    return where


async def test_optimise_publishes_rounds_that_an_independent_check_accepts(
    client, world, db, rounds_settings
):
    where = await _morning(client, world, db)
    refused = await client.post(f"/api/rounds/{world.today}/optimise", headers=world.secretary)
    assert refused.status_code == 403
    response = await client.post(f"/api/rounds/{world.today}/optimise", headers=world.coordinator)
    assert response.status_code == 200, response.text
    run = response.json()
    assert run["status"] == "succeeded" and run["trigger"] == "optimise"
    assert run["dropped"] == [] and sorted(run["narrowed"]) == sorted(where)
    assert run["travel_provider"] == "haversine" and run["seed"] == rounds_settings.rounds_seed

    rounds = (await client.get(f"/api/rounds/{world.today}", headers=world.secretary)).json()
    assert rounds["run"]["id"] == run["id"]
    homes = {
        world.titular.id: (world.titular.latitude, world.titular.longitude),
        world.adjoint.id: (world.adjoint.latitude, world.adjoint.longitude),
    }
    seen = []
    db_rows = {
        a.id: a
        for a in (await db.scalars(select(Appointment).where(Appointment.id.in_(where)))).all()
    }
    for route in rounds["routes"]:
        home = homes[route["practitioner_id"]]
        at_, t = home, local(route["depart_at"])
        assert t >= at(world.today, dt.time(10), PARIS)
        total = 0.0
        for order, stop in enumerate(route["stops"], start=1):
            leg = travel_minutes(at_, where[stop["appointment_id"]], rounds_settings)
            total += leg
            arrival = local(stop["planned_arrival"])
            assert arrival >= t + dt.timedelta(minutes=leg - TOL), "arrives before it can"
            start, end = local(stop["window_start"]), local(stop["window_end"])
            assert start <= arrival <= end and end - start == dt.timedelta(minutes=60)
            assert at(world.today, dt.time(10), PARIS) <= start
            assert end <= at(world.today, dt.time(13), PARIS)  # inside the promise made
            row = db_rows[stop["appointment_id"]]
            assert row.route_order == order == stop["order"]
            assert row.planned_arrival == arrival
            assert (row.start_at, row.end_at) == (start, end)  # the narrowed window is told
            at_, t = where[stop["appointment_id"]], arrival + dt.timedelta(minutes=20)
            seen.append(stop["appointment_id"])
        total += travel_minutes(at_, home, rounds_settings)
        assert abs(total - route["travel_minutes"]) <= TOL * (len(route["stops"]) + 1)
        assert local(route["back_at"]) >= t + dt.timedelta(
            minutes=travel_minutes(at_, home, rounds_settings) - TOL
        )
    assert sorted(seen) == sorted(where)
    assert {r["practitioner_id"] for r in rounds["routes"] if r["stops"]} == set(homes)

    own = (await client.get(f"/api/rounds/{world.today}", headers=world.gp)).json()
    assert {r["practitioner_id"] for r in own["routes"]} == {world.titular.id}
    none = (await client.get(f"/api/rounds/{world.today}", headers=world.other_gp)).json()
    assert none["routes"] == []


async def test_optimising_twice_gives_the_same_plan(client, world, db):
    await _morning(client, world, db)
    plans = []
    for _ in range(2):
        assert (
            await client.post(f"/api/rounds/{world.today}/optimise", headers=world.coordinator)
        ).status_code == 200
        rounds = (await client.get(f"/api/rounds/{world.today}", headers=world.secretary)).json()
        plans.append(
            [
                (r["practitioner_id"], [s["appointment_id"] for s in r["stops"]])
                for r in rounds["routes"]
            ]
        )
    assert plans[0] == plans[1]
    runs = (await client.get(f"/api/rounds/{world.today}/runs", headers=world.coordinator)).json()
    assert [r["status"] for r in runs] == ["succeeded", "succeeded"]


async def test_a_delay_lists_the_patients_to_call_back(client, world, db):
    early = await new_request(
        client,
        world.secretary,
        (await new_patient(db, "Lucas", "Rungis", phone="+33639980077")).id,
        modality="home_visit",
    )
    late = await new_request(
        client,
        world.secretary,
        (await new_patient(db, "Vidal", "Fresnes")).id,
        modality="home_visit",
    )
    first = await book_visit(
        client,
        world.secretary,
        early["id"],
        world.titular.id,
        world.today,
        dt.time(10),
        dt.time(11),
    )
    second = await book_visit(
        client,
        world.secretary,
        late["id"],
        world.titular.id,
        world.today,
        dt.time(12),
        dt.time(13),
    )
    await client.post(f"/api/rounds/{world.today}/optimise", headers=world.coordinator)

    not_mine = await client.post(
        f"/api/rounds/{world.today}/delay",
        json={"practitioner_id": world.adjoint.id, "minutes": 30},
        headers=world.gp,
    )
    assert not_mine.status_code == 403
    response = await client.post(
        f"/api/rounds/{world.today}/delay",
        json={"practitioner_id": world.titular.id, "minutes": 90},
        headers=world.gp,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["run"]["trigger"] == "delay"
    assert body["run"]["delays"] == {str(world.titular.id): 90}
    assert [r["appointment_id"] for r in body["renegotiate"]] == [first["id"]]
    call = body["renegotiate"][0]
    assert call["patient_name"] == "LUCAS Test" and call["phone"] == "+33639980077"
    assert local(call["promised_start"]).time() == dt.time(10)
    assert local(call["planned_arrival"]) >= at(world.today, dt.time(11, 30), PARIS)
    # The 12:00–13:00 promise is still kept by the new plan.
    rounds = (await client.get(f"/api/rounds/{world.today}", headers=world.gp)).json()
    stops = {s["appointment_id"]: s for r in rounds["routes"] for s in r["stops"]}
    kept = local(stops[second["id"]]["planned_arrival"])
    assert at(world.today, dt.time(12), PARIS) <= kept <= at(world.today, dt.time(13), PARIS)
    # The delay is remembered by later runs of the day.
    again = await client.post(f"/api/rounds/{world.today}/optimise", headers=world.coordinator)
    assert again.json()["delays"] == {str(world.titular.id): 90}


async def test_worker_job_optimises_today_and_tomorrow_once(client, world, db, app):
    assert any(name == JOB_NAME for name, _interval, _job in app.state.periodic_jobs)
    await _morning(client, world, db)
    await optimise_before_session_job(app)
    tomorrow = world.today + dt.timedelta(days=1)
    for date in (world.today, tomorrow):
        runs = (await client.get(f"/api/rounds/{date}/runs", headers=world.coordinator)).json()
        assert [(r["trigger"], r["status"]) for r in runs] == [("scheduled", "succeeded")]
    await optimise_before_session_job(app)  # nothing changed: no new run
    runs = (await client.get(f"/api/rounds/{world.today}/runs", headers=world.coordinator)).json()
    assert len(runs) == 1
    rounds = (await client.get(f"/api/rounds/{world.today}", headers=world.secretary)).json()
    assert sum(len(r["stops"]) for r in rounds["routes"]) == 5


async def test_absorbable_windows_respect_capacity(client, world, db, app, clock):
    start, end = day_bounds(world.today)
    titular, adjoint = world.titular.id, world.adjoint.id
    ids = [titular, adjoint, world.other_titular.id]
    planner = app.state.rounds_planner
    windows = await rounds_service.absorbable_home_visit_windows(
        session=db, practitioner_ids=ids, start=start, end=end, now=clock(), planner=planner
    )
    await db.rollback()
    hours = {(w.practitioner_id, local(w.start_at.isoformat()).hour) for w in windows}
    assert hours == {(p, h) for p in (titular, adjoint) for h in (10, 11, 12)}
    assert all(w.end_at - w.start_at == dt.timedelta(minutes=60) for w in windows)

    await db.execute(
        update(DutySession)
        .where(
            DutySession.practitioner_id == titular,
            DutySession.kind == SessionKind.home_visit,
            DutySession.date == world.today,
        )
        .values(capacity=1)
    )
    await db.commit()
    request = await new_request(
        client, world.secretary, (await new_patient(db, "Leroy")).id, modality="home_visit"
    )
    await book_visit(
        client,
        world.secretary,
        request["id"],
        titular,
        world.today,
        dt.time(10),
        dt.time(11),
    )
    windows = await rounds_service.absorbable_home_visit_windows(
        session=db, practitioner_ids=ids, start=start, end=end, now=clock(), planner=planner
    )
    await db.rollback()
    assert {w.practitioner_id for w in windows} == {adjoint}


def test_the_service_can_switch_the_second_search_off():
    on = Planner(settings=RoundsSettings(osrm_url="")).params()
    off = Planner(settings=RoundsSettings(osrm_url="", rounds_parallel_search=False)).params()
    assert on.rival_first_solutions == ("LOCAL_CHEAPEST_INSERTION",)
    assert off.rival_first_solutions == ()
