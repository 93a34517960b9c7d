"""A timed slot booked while another caller's options were being computed is not shown.

Proposals read free slots before taking the holds' lock; the booking of a slot in
between releases its holder's hold, so without a fresh read under the lock the next
caller was shown a slot already taken and got 409 ``slot_taken`` on booking it (the
load benchmark's teleconsultation 409s, 2026-12-07).
"""

from __future__ import annotations

import datetime as dt

from app.requests.models import CareRequest
from app.rounds import proposals
from tests.rounds.conftest import new_patient, new_request


async def test_slot_booked_between_read_and_holds_is_not_shown(app, client, world, db, clock):
    first = await new_request(client, world.secretary, (await new_patient(db, "Faure")).id)
    second = await new_request(client, world.secretary, (await new_patient(db, "Henry")).id)
    planner = app.state.rounds_planner
    now = clock()
    care = await db.get(CareRequest, second["id"])
    assert care is not None
    # The second caller's options are read first…
    everything = await proposals.candidates(
        session=db, care_request=care, k=3, planner=planner, now=now
    )
    await db.rollback()
    # …then the first caller is shown options and books the best one (hold released).
    shown = await client.get(f"/api/requests/{first['id']}/proposals", headers=world.secretary)
    assert shown.status_code == 200, shown.text
    best = shown.json()["options"][0]
    booked = await client.post(
        f"/api/requests/{first['id']}/proposals/book",
        json=best["booking"],
        headers=world.secretary,
    )
    assert booked.status_code == 201, booked.text
    taken = (best["practitioner_id"], dt.datetime.fromisoformat(best["start_at"]))
    assert taken in {(o.practitioner_id, o.start_at) for _s, o in everything}, "stale read"

    care = await db.get(CareRequest, second["id"])
    assert care is not None
    found, _held = await proposals.hold_best(
        session=db, care_request=care, everything=everything, k=3, planner=planner, now=now
    )
    await db.commit()
    assert found
    assert taken not in {(o.practitioner_id, o.start_at) for o in found}
    # And the second caller books what they were shown, no 409.
    chosen = found[0]
    response = await client.post(
        f"/api/requests/{second['id']}/proposals/book",
        json=chosen.booking.model_dump(mode="json"),
        headers=world.secretary,
    )
    assert response.status_code == 201, response.text
