"""The private iCalendar feed: parses, stable UIDs, cancellations, revocation."""

from __future__ import annotations

from icalendar import Calendar

from tests.gp.helpers import book, local, new_request


async def _feed(client, headers) -> dict:
    response = await client.post("/api/me/ical-feeds", json={"label": "Téléphone"}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _path(feed: dict) -> str:
    return feed["url"].removeprefix("http://test")


def _events(body: bytes) -> dict[str, object]:
    calendar = Calendar.from_ical(body)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


async def test_the_feed_parses_keeps_uids_and_shows_a_cancellation(client, world, db):
    _p, request_id = await new_request(
        client, world, db, family_name="Durand", given_name="Louise", commune="Arcueil"
    )
    visit = await book(
        client, world, request_id, world.titular.id, local(world.today, 10), kind="home_visit"
    )
    feed = await _feed(client, world.gp)
    assert feed["url"].startswith("http://test/ical/") and feed["url"].endswith(".ics")

    response = await client.get(_path(feed))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    events = _events(response.content)
    uid = f"rdv-{visit['id']}@test"
    event = events[uid]
    assert str(event["SUMMARY"]) == "Visite à domicile — L.D. (Arcueil)"
    assert str(event["STATUS"]) == "CONFIRMED" and int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == local(world.today, 10)
    assert event.decoded("DTEND") == local(world.today, 11)
    assert "Durand" not in response.text and "Louise" not in response.text  # no identity
    assert any(u.startswith("vacation-") for u in events)

    # Same UIDs on the next fetch.
    again = _events((await client.get(_path(feed))).content)
    assert set(again) == set(events)

    response = await client.post(
        f"/api/appointments/{visit['id']}/cancel",
        json={"reason": "Le patient va mieux", "by_patient": True},
        headers=world.secretary,
    )
    assert response.status_code == 200
    after = _events((await client.get(_path(feed))).content)
    assert str(after[uid]["STATUS"]) == "CANCELLED"
    assert int(after[uid]["SEQUENCE"]) == 1
    assert str(after[uid]["SUMMARY"]).startswith("Annulé : ")


async def test_a_reassigned_appointment_is_cancelled_in_the_first_feed(client, world, db):
    _p, request_id = await new_request(client, world, db)
    appointment = await book(client, world, request_id, world.titular.id, local(world.today, 15))
    mine, theirs = await _feed(client, world.gp), await _feed(client, world.other_gp)
    response = await client.post(
        f"/api/appointments/{appointment['id']}/reschedule",
        json={
            "start_at": local(world.today, 16).isoformat(),
            "practitioner_id": world.other_titular.id,
        },
        headers=world.secretary,
    )
    assert response.status_code == 200, response.text
    uid = f"rdv-{appointment['id']}@test"
    left = _events((await client.get(_path(mine))).content)[uid]
    assert str(left["STATUS"]) == "CANCELLED" and int(left["SEQUENCE"]) == 1
    arrived = _events((await client.get(_path(theirs))).content)[uid]
    assert str(arrived["STATUS"]) == "CONFIRMED" and int(arrived["SEQUENCE"]) == 1
    assert arrived.decoded("DTSTART") == local(world.today, 16)


async def test_a_revoked_token_gives_404(client, world):
    feed = await _feed(client, world.gp)
    assert (await client.get(_path(feed))).status_code == 200
    # Nobody else can revoke it; its owner can.
    response = await client.delete(f"/api/me/ical-feeds/{feed['id']}", headers=world.other_gp)
    assert response.status_code == 404
    response = await client.delete(f"/api/me/ical-feeds/{feed['id']}", headers=world.gp)
    assert response.status_code == 200 and response.json()["revoked_at"] is not None
    assert (await client.get(_path(feed))).status_code == 404
    assert (await client.get("/ical/not-a-real-token.ics")).status_code == 404
    listed = (await client.get("/api/me/ical-feeds", headers=world.gp)).json()
    assert [f["id"] for f in listed] == [feed["id"]] and listed[0]["url"] is None
