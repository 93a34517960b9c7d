"""No CPU-bound work on the event loop: a booking scenario never blocks it > 100 ms.

asyncio's debug mode logs every callback (a coroutine step) that runs longer than
``slow_callback_duration``; the scenario (proposals, home-visit and teleconsultation
bookings, the worker's re-plan) runs with 0.1 s and fails on any such log line.
Solver calls belong in the planner's threads (:class:`app.rounds.planner.Planner`).
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from app.rounds import replans
from tests.rounds.conftest import new_patient, new_request

SLOW_S = 0.1


async def _scenario(app, client, world, db, tag: str) -> None:
    for name, commune, modality in (
        ("Moreau", "Fresnes", "home_visit"),
        ("Roux", "Rungis", "home_visit"),
        ("Blanc", "Chevilly-Larue", "teleconsultation"),
        ("Petit", "Cachan", "home_visit"),
    ):
        name += tag
        patient = await new_patient(db, name, commune)
        request = await new_request(client, world.secretary, patient.id, modality=modality)
        shown = await client.get(
            f"/api/requests/{request['id']}/proposals", headers=world.secretary
        )
        assert shown.status_code == 200, shown.text
        booked = await client.post(
            f"/api/requests/{request['id']}/proposals/book",
            json=shown.json()["options"][0]["booking"],
            headers=world.secretary,
        )
        assert booked.status_code == 201, booked.text
    await replans.run_pending(
        session=db, planner=app.state.rounds_planner, now=app.state.clock(), debounce_s=0
    )
    agenda = await client.get(f"/api/rounds/{world.today}", headers=world.secretary)
    assert agenda.status_code == 200


async def test_the_booking_scenario_never_blocks_the_loop(app, client, world, db, caplog):
    # A warm-up round first: the first use of each query compiles it (once per process).
    await _scenario(app, client, world, db, "a")
    loop = asyncio.get_running_loop()
    debug, slow = loop.get_debug(), loop.slow_callback_duration
    loop.set_debug(True)
    loop.slow_callback_duration = SLOW_S
    try:
        with caplog.at_level(logging.WARNING, logger="asyncio"):
            await _scenario(app, client, world, db, "b")
    finally:
        loop.set_debug(debug)
        loop.slow_callback_duration = slow
    blocked = [r.getMessage() for r in caplog.records if "took" in r.getMessage()]
    assert blocked == [], blocked


async def test_the_check_catches_a_blocked_loop(caplog):
    """The check itself works: a 150 ms CPU step on the loop is reported."""
    loop = asyncio.get_running_loop()
    debug, slow = loop.get_debug(), loop.slow_callback_duration
    loop.set_debug(True)
    loop.slow_callback_duration = SLOW_S

    async def busy() -> None:
        deadline = loop.time() + 0.15
        while loop.time() < deadline:
            pass

    try:
        with caplog.at_level(logging.WARNING, logger="asyncio"):
            await asyncio.create_task(busy())
            await asyncio.sleep(0)
    finally:
        loop.set_debug(debug)
        loop.slow_callback_duration = slow
    if not any("took" in r.getMessage() for r in caplog.records):
        pytest.fail("asyncio debug mode did not report a 150 ms step")
