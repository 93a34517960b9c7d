"""On a day with no solver run yet, the rounds in force are the ones the bookings'
insertions built: their order is kept on the appointments and read back, so the next
insertion and the worker's first re-plan start from a plan holding every promise.

Before, ``load_day`` read no order without a run: each insertion, and the worker's first
run, started from a fresh heuristic plan, which could leave a promised visit out. Under
load (``benchmarks/load.py`` at 10 flows/s) two promised windows were then broken.
"""

from __future__ import annotations

from sqlalchemy import select

from app.appointments.models import Appointment
from app.core.timeutil import PARIS
from app.rounds import replans
from app.rounds.instance import load_day, visit_key
from tests.rounds.conftest import new_patient, new_request


async def _book_first_option(client, world, db, name, commune):
    patient = await new_patient(db, name, commune)
    request = await new_request(client, world.secretary, patient.id, modality="home_visit")
    options = await client.get(f"/api/requests/{request['id']}/proposals", headers=world.secretary)
    assert options.status_code == 200, options.text
    option = options.json()["options"][0]
    booked = await client.post(
        f"/api/requests/{request['id']}/proposals/book",
        json=option["booking"],
        headers=world.secretary,
    )
    assert booked.status_code == 201, booked.text
    return booked.json()


async def test_without_a_run_the_insertions_order_is_the_plan_in_force(app, client, world, db):
    booked = [
        await _book_first_option(client, world, db, name, commune)
        for name, commune in (("Moreau", "Fresnes"), ("Roux", "Rungis"), ("Petit", "Cachan"))
    ]
    ids = [b["appointment"]["id"] for b in booked]
    rows = (await db.execute(select(Appointment).where(Appointment.id.in_(ids)))).scalars().all()
    await db.commit()
    date = rows[0].start_at.astimezone(PARIS).date()
    by_gp: dict[int, list[Appointment]] = {}
    for a in rows:
        by_gp.setdefault(a.practitioner_id, []).append(a)
    day = await load_day(
        session=db, date=date, home_visit_minutes=app.state.rounds_planner.home_visit_minutes
    )
    assert day.run is None  # no solver run yet: only insertions
    for gp, appointments in by_gp.items():
        places = sorted(a.route_order for a in appointments)
        assert places == list(range(1, len(appointments) + 1))  # one place each, no gap
        ordered = [visit_key(a.id) for a in sorted(appointments, key=lambda a: a.route_order)]
        assert day.orders[str(gp)] == ordered
    await db.commit()
    # The worker's first run starts from that plan: no promise to renegotiate.
    runs = await replans.run_pending(
        session=db, planner=app.state.rounds_planner, now=app.state.clock(), debounce_s=0
    )
    assert runs and all(run.renegotiate == [] for run in runs)
    for a in (await db.execute(select(Appointment).where(Appointment.id.in_(ids)))).scalars():
        await db.refresh(a)
        assert a.start_at <= a.planned_arrival <= a.end_at
