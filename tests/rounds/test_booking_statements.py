"""One booking pipeline: booking from a proposal runs a bounded number of SQL statements.

The request and its patient are read (and locked) once, the session once, the rules
checked once, the price computed once, one audit row for the read and one for the
booking, one event. A home visit adds the day's load and the insertion into the round in
force (the re-plan is the worker's, after the answer), its hold released.
"""

from __future__ import annotations

from sqlalchemy import event

from app.rounds import replans
from tests.rounds.conftest import new_patient, new_request

# Measured on SQLite: 22 for a teleconsultation and 30 for a home visit, the second visit
# of a day included. Of these, +2 since the waiting list (issue 23: a booked request
# leaves the list, a freed slot it fills is marked refilled: one read each) and +1 since
# the patient's same-day guard (issue 22: one read of the patient's appointments that
# day). The day load reads the booked visits with their patients and requests in one
# statement and the run in force with its routes in one (2026-12-07; before: 27 and 29,
# and one more with a plan in force). Earlier: 17 and 26 (28) since the re-plan left the
# request (holds released, one read of the coordinator's MCG setting), +1 each since the
# bearer token's revocable jti is read (issue 20); with the re-plan inside the request,
# 16 and 30 (31); before the one pipeline, 21 and 34 (38).
# +1 for a home visit inserted before an earlier stop on a day with no run yet: that
# stop's place (``route_order``) moves down, which keeps the rounds the insertions built.
MAX_TELECONSULTATION = 22
MAX_HOME_VISIT = 31


class Counter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append(" ".join(statement.split()))

    def starting(self, prefix: str) -> int:
        return sum(1 for s in self.statements if s.upper().startswith(prefix))


async def _book_from_proposal(client, world, db, name, commune, modality, counter) -> int:
    patient = await new_patient(db, name, commune)
    request = await new_request(client, world.secretary, patient.id, modality=modality)
    options = await client.get(f"/api/requests/{request['id']}/proposals", headers=world.secretary)
    assert options.status_code == 200, options.text
    option = options.json()["options"][0]
    counter.statements.clear()
    response = await client.post(
        f"/api/requests/{request['id']}/proposals/book",
        json=option["booking"],
        headers=world.secretary,
    )
    assert response.status_code == 201, response.text
    # One read of the request (the day load reads the day's requests joined to their
    # visits) and one audit row each for the read and the booking.
    reads = sum(1 for s in counter.statements if s.startswith("SELECT care_requests.id"))
    assert reads == 1, counter.statements
    assert counter.starting("INSERT INTO AUDIT_EVENTS") == 2
    return len(counter.statements)


async def _measure(app, client, world, db, modality: str) -> list[int]:
    counter = Counter()
    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        return [
            await _book_from_proposal(client, world, db, name, commune, modality, counter)
            for name, commune in (("Moreau", "Fresnes"), ("Roux", "Rungis"))
        ]
    finally:
        event.remove(engine, "before_cursor_execute", counter)


async def test_a_teleconsultation_booked_from_a_proposal_runs_at_most_22_statements(
    app, client, world, db
):
    counts = await _measure(app, client, world, db, "teleconsultation")
    print(f"teleconsultation from a proposal: {counts} statements")
    assert max(counts) <= MAX_TELECONSULTATION, counts


async def test_a_home_visit_booked_from_a_proposal_reads_the_day_once(app, client, world, db):
    counts = await _measure(app, client, world, db, "home_visit")
    print(f"home visit from a proposal: {counts} statements")
    assert max(counts) <= MAX_HOME_VISIT, counts
    # With a plan in force (the worker re-planned the morning): the day load reads its run
    # and routes in one statement; the insertion then reads and updates the GP's route.
    await replans.run_pending(
        session=db, planner=app.state.rounds_planner, now=app.state.clock(), debounce_s=0
    )
    counter = Counter()
    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        count = await _book_from_proposal(
            client, world, db, "Petit", "Cachan", "home_visit", counter
        )
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    print(f"home visit with a plan in force: {count} statements")
    assert counter.starting("SELECT ROUND_RUNS") == 1, counter.statements
    assert counter.starting("UPDATE ROUND_ROUTES") == 1, counter.statements
    assert counter.starting("SELECT ROUND_ROUTES") == 1, counter.statements
    # + the route's read and update, + the titular's sessions when the GP is an adjoint.
    assert count <= MAX_HOME_VISIT + 3, counter.statements
