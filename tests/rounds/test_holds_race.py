"""A timed slot booked while another caller's options were being computed is not shown.

Proposals read free slots before taking the holds' lock; the booking of a slot in
between releases its holder's hold, so without a fresh read under the lock the next
caller was shown a slot already taken and got 409 ``slot_taken`` on booking it (the
load benchmark's teleconsultation 409s, 2026-12-07).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from app.practitioners.models import DutySession, SessionKind
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


async def test_last_place_of_a_round_held_is_not_shown_to_another_caller(client, world, db):
    # Every round of the day takes one visit: the first caller's hold takes that place.
    await db.execute(
        update(DutySession)
        .where(DutySession.kind == SessionKind.home_visit, DutySession.date == world.today)
        .values(capacity=1)
    )
    await db.commit()
    first = await new_request(
        client, world.secretary, (await new_patient(db, "Mercier")).id, modality="home_visit"
    )
    second = await new_request(
        client,
        world.secretary,
        (await new_patient(db, "Girard", "Fresnes")).id,
        modality="home_visit",
    )
    mine = await client.get(f"/api/requests/{first['id']}/proposals", headers=world.secretary)
    assert mine.status_code == 200, mine.text
    today = str(world.today)
    held = {(o["practitioner_id"], o["date"]) for o in mine.json()["options"] if o["date"] == today}
    assert held
    theirs = await client.get(f"/api/requests/{second['id']}/proposals", headers=world.secretary)
    assert theirs.status_code == 200, theirs.text
    shown = theirs.json()["options"]
    # Today's rounds (one place each) held by the first caller are not offered again.
    assert not held & {(o["practitioner_id"], o["date"]) for o in shown}
    # Both book what they were shown: no 409 (session_full) for either.
    for request, options in ((first, mine.json()["options"]), (second, shown)):
        if not options:
            continue
        response = await client.post(
            f"/api/requests/{request['id']}/proposals/book",
            json=options[0]["booking"],
            headers=world.secretary,
        )
        assert response.status_code == 201, response.text
