"""The solver off the request path: a booking inserts, the worker re-plans; holds.

A home visit booked from a proposal is checked by insertion into the round in force
(no solver search) and answered; the worker's job re-optimises the morning afterwards,
once for a burst of bookings, promises kept. Options shown to concurrent callers are
held for them, so ten secretaries booking neighbouring patients at once nearly all
succeed on the first try.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import func, select

from app.appointments.models import Appointment, AppointmentStatus
from app.practitioners.models import SessionKind
from app.rounds import replans
from app.rounds.instance import load_day
from app.rounds.models import ProposalHold, RoundRun
from scheduler import solve_rounds
from tests.factories import add_week, make_patient, make_practitioner
from tests.rounds.conftest import book_visit, local, new_patient, new_request

# Communes of the territory (INSEE) where the extra GPs practise.
PRACTICES = ("94016", "94034", "94065", "94021", "94038", "94016", "94034", "94065")


async def _more_gps(db, today: dt.date, count: int) -> None:
    for n in range(count):
        gp = await make_practitioner(
            db,
            family_name=f"Renfort{n}",
            given_name="Alex",
            commune_insee=PRACTICES[n % len(PRACTICES)],
            max_visits_per_morning=8,
        )
        await add_week(db, gp, today, kinds=(SessionKind.home_visit,), horizon_days=2)


async def _placed(db, name: str, lat: float, lon: float):
    return await make_patient(
        db,
        family_name=name,
        given_name="Test",
        commune="Cachan",
        postal_code="94230",
        commune_insee="94016",
        latitude=lat,
        longitude=lon,
    )


async def _neighbour(db, n: int):
    # Patients a few hundred metres apart around Cachan.
    return await _placed(db, f"Voisin{n}", 48.79 + 0.002 * (n % 5), 2.33 + 0.002 * n)


async def _ask(client, headers, request_id: int) -> dict:
    response = await client.get(f"/api/requests/{request_id}/proposals", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _book(client, headers, request_id: int, option: dict):
    return await client.post(
        f"/api/requests/{request_id}/proposals/book", json=option["booking"], headers=headers
    )


class SolverCalls:
    """What the planner ran in its threads (function names), while installed."""

    def __init__(self, planner) -> None:
        self.planner, self.names = planner, []
        self._run = planner.run

    async def __call__(self, fn, /, *args, **kwargs):
        self.names.append(fn.__name__)
        return await self._run(fn, *args, **kwargs)

    def __enter__(self) -> SolverCalls:
        self.planner.run = self
        return self

    def __exit__(self, *exc) -> None:
        self.planner.run = self._run


async def _runs(db) -> int:
    count = await db.scalar(select(func.count()).select_from(RoundRun))
    await db.rollback()
    return int(count or 0)


async def test_booking_inserts_without_solving_and_the_worker_replans(app, client, world, db):
    planner = app.state.rounds_planner
    first = await new_request(
        client,
        world.secretary,
        (await new_patient(db, "Moreau", "Fresnes")).id,
        modality="home_visit",
    )
    option = (await _ask(client, world.secretary, first["id"]))["options"][0]
    assert (await _book(client, world.secretary, first["id"], option)).status_code == 201
    await replans.run_pending(session=db, planner=planner, now=app.state.clock(), debounce_s=0)
    runs_before = await _runs(db)

    second = await new_request(
        client,
        world.secretary,
        (await new_patient(db, "Roux", "Rungis")).id,
        modality="home_visit",
    )
    option = (await _ask(client, world.secretary, second["id"]))["options"][0]
    with SolverCalls(planner) as calls:
        response = await _book(client, world.secretary, second["id"], option)
    assert response.status_code == 201, response.text
    # Only the insertion check ran (no re-plan, no search) and no run was recorded.
    assert calls.names == ["_insertion"]
    assert await _runs(db) == runs_before
    booked = response.json()["appointment"]
    # The round in force shows the new stop at once, with its planned arrival.
    rounds = (await client.get(f"/api/rounds/{world.today}", headers=world.secretary)).json()
    stops = {s["appointment_id"]: s for r in rounds["routes"] for s in r["stops"]}
    assert booked["id"] in stops
    assert local(option["start_at"]) <= local(stops[booked["id"]]["planned_arrival"])
    assert [r.date for r in await replans.pending(session=db)] == [world.today]
    await db.rollback()

    # A booking of that morning within the debounce period: the job waits.
    assert (
        await replans.run_pending(session=db, planner=planner, now=app.state.clock(), debounce_s=60)
        == []
    )
    runs = await replans.run_pending(
        session=db, planner=planner, now=app.state.clock(), debounce_s=0
    )
    assert len(runs) == 1 and runs[0].trigger == "booking" and runs[0].renegotiate == []
    assert await _runs(db) == runs_before + 1
    arrivals = (
        await db.execute(
            select(
                Appointment.id,
                Appointment.planned_arrival,
                Appointment.start_at,
                Appointment.end_at,
            ).where(Appointment.status == AppointmentStatus.booked)
        )
    ).all()
    assert len(arrivals) == 2
    for _aid, arrival, start, end in arrivals:
        assert arrival is not None and start <= arrival <= end


async def test_a_burst_of_30_bookings_is_replanned_once_within_1_percent(app, client, world, db):
    await _more_gps(db, world.today, 6)
    planner = app.state.rounds_planner
    for n in range(30):
        patient = await _placed(db, f"Rafale{n}", 48.75 + 0.0015 * n, 2.32 + 0.001 * (n % 7))
        request = await new_request(client, world.secretary, patient.id, modality="home_visit")
        body = await _ask(client, world.secretary, request["id"])
        today = [o for o in body["options"] if o["date"] == str(world.today)] or body["options"]
        response = await _book(client, world.secretary, request["id"], today[0])
        assert response.status_code == 201, response.text
    assert await _runs(db) == 0  # thirty bookings, no solver run yet
    dates = [r.date for r in await replans.pending(session=db)]
    await db.rollback()
    runs = await replans.run_pending(
        session=db, planner=planner, now=app.state.clock(), debounce_s=0
    )
    assert len(runs) == len(dates) <= 2  # one run per morning touched
    run = next(r for r in runs if r.date == world.today)
    assert run.status == "succeeded" and run.renegotiate == [] and run.dropped == []
    total = run.objective["total"]
    # A full optimisation of the final set of visits from scratch, same time budget.
    day = await load_day(session=db, date=world.today)
    await db.rollback()
    params = planner.params(time_limit_s=planner.settings.rounds_replan_time_limit_s)
    full = solve_rounds(day.instance, params, travel=planner.travel)
    print(f"burst of 30: re-plan {total} vs full optimisation {full.objective['total']}")
    assert len(day.instance.visits) == 30 and not full.dropped
    assert total <= full.objective["total"] * 1.01


async def test_ten_concurrent_callers_get_diverse_held_options(app, client, world, db, is_postgres):
    await _more_gps(db, world.today, 4)
    requests = []
    for n in range(10):
        requests.append(
            await new_request(
                client, world.secretary, (await _neighbour(db, n)).id, modality="home_visit"
            )
        )
    if is_postgres:
        shown = await asyncio.gather(*(_ask(client, world.secretary, r["id"]) for r in requests))
    else:
        shown = [await _ask(client, world.secretary, r["id"]) for r in requests]
    firsts = [s["options"][0] for s in shown]
    # Diverse: the callers are not all offered the same GP and window first.
    assert len({(o["practitioner_id"], o["start_at"]) for o in firsts}) >= 8
    holds = await db.scalar(select(func.count()).select_from(ProposalHold))
    await db.rollback()
    assert holds >= 10
    if is_postgres:
        responses = await asyncio.gather(
            *(
                _book(client, world.secretary, r["id"], o)
                for r, o in zip(requests, firsts, strict=True)
            )
        )
    else:
        responses = [
            await _book(client, world.secretary, r["id"], o)
            for r, o in zip(requests, firsts, strict=True)
        ]
    ok = [r for r in responses if r.status_code == 201]
    assert len(ok) >= 9, [r.text for r in responses if r.status_code != 201]
    assert all(r.status_code in (201, 409) for r in responses)
    # Promises kept: each booked window is the one shown, and the re-plan keeps them.
    for response, option in zip(responses, firsts, strict=True):
        if response.status_code == 201:
            appointment = response.json()["appointment"]
            assert local(appointment["start_at"]) == local(option["start_at"])
    runs = await replans.run_pending(
        session=db, planner=app.state.rounds_planner, now=app.state.clock(), debounce_s=0
    )
    assert runs and all(r.renegotiate == [] and r.dropped == [] for r in runs)
    rows = (
        await db.execute(
            select(Appointment.start_at, Appointment.end_at, Appointment.planned_arrival)
        )
    ).all()
    assert len(rows) == len(ok)
    for start, end, arrival in rows:
        assert arrival is not None and start <= arrival <= end


async def test_a_hold_expires_by_itself(app, client, world, db, clock):
    first = await new_request(client, world.secretary, (await new_patient(db, "Petit")).id)
    second = await new_request(client, world.secretary, (await new_patient(db, "Lemoine")).id)
    shown = (await _ask(client, world.secretary, first["id"]))["options"][0]
    other = (await _ask(client, world.secretary, second["id"]))["options"]
    # The slot shown to the first caller is not offered to the second one...
    assert all(
        (o["practitioner_id"], o["start_at"]) != (shown["practitioner_id"], shown["start_at"])
        for o in other
    )
    # ...until the hold runs out (3 minutes by default).
    clock.advance(dt.timedelta(minutes=4))
    later = (await _ask(client, world.secretary, second["id"]))["options"]
    assert any(
        (o["practitioner_id"], o["start_at"]) == (shown["practitioner_id"], shown["start_at"])
        for o in later
    )
    # The first caller still books the slot shown to them: a hold never answers 409.
    response = await _book(client, world.secretary, first["id"], shown)
    assert response.status_code == 201, response.text


async def test_a_cancellation_answers_without_solving_and_the_worker_replans(
    app, client, world, db
):
    """Cancelling a home visit only marks the morning; the worker re-plans it, promises kept."""
    planner = app.state.rounds_planner
    ids = []
    for name, start in (("Noel", dt.time(10)), ("Perrin", dt.time(11)), ("Caron", dt.time(10))):
        request = await new_request(
            client,
            world.secretary,
            (await new_patient(db, name, "Rungis")).id,
            modality="home_visit",
        )
        ids.append(
            (
                await book_visit(
                    client,
                    world.secretary,
                    request["id"],
                    world.titular.id,
                    world.today,
                    start,
                    dt.time(start.hour + 1),
                )
            )["id"]
        )
    optimised = await client.post(f"/api/rounds/{world.today}/optimise", headers=world.coordinator)
    assert optimised.status_code == 200, optimised.text
    await replans.run_pending(session=db, planner=planner, now=app.state.clock(), debounce_s=0)
    runs_before = await _runs(db)

    with SolverCalls(planner) as calls:
        cancelled = await client.post(
            f"/api/appointments/{ids[0]}/cancel", json={"reason": "mieux"}, headers=world.secretary
        )
    assert cancelled.status_code == 200, cancelled.text
    # No solver in the request: nothing ran in the planner, no run was recorded.
    assert calls.names == []
    assert await _runs(db) == runs_before
    assert [r.date for r in await replans.pending(session=db)] == [world.today]
    await db.rollback()
    # The round in force leaves the cancelled stop out at once.
    rounds = (await client.get(f"/api/rounds/{world.today}", headers=world.secretary)).json()
    assert sorted(s["appointment_id"] for r in rounds["routes"] for s in r["stops"]) == ids[1:]

    # The worker re-plans the freed morning afterwards: one run, no broken promise.
    runs = await replans.run_pending(
        session=db, planner=planner, now=app.state.clock(), debounce_s=0
    )
    assert len(runs) == 1 and runs[0].status == "succeeded" and runs[0].renegotiate == []
    assert runs[0].trigger == "cancellation"  # the run names why the morning moved
    run_id = runs[0].id
    assert await replans.pending(session=db) == []
    await db.rollback()
    rounds = (await client.get(f"/api/rounds/{world.today}", headers=world.secretary)).json()
    assert rounds["run"]["id"] == run_id
    assert sorted(s["appointment_id"] for r in rounds["routes"] for s in r["stops"]) == ids[1:]
    for route in rounds["routes"]:
        for stop in route["stops"]:
            assert local(stop["promised_start"]) <= local(stop["planned_arrival"])
            assert local(stop["planned_arrival"]) <= local(stop["promised_end"])
