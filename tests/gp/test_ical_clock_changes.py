"""Feed times across the October and March clock changes (Europe/Paris)."""

from __future__ import annotations

import datetime as dt

import pytest
from icalendar import Calendar

from app.core.clock import FixedClock
from tests.gp.helpers import local, new_request

UTC = dt.UTC


@pytest.fixture
def clock() -> FixedClock:
    # A Monday in October, six days before the change to winter time (25 Oct 2026).
    return FixedClock(dt.datetime(2026, 10, 19, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))))


async def _book(client, world, db, start: dt.datetime) -> int:
    _p, request_id = await new_request(client, world, db)
    response = await client.post(
        "/api/appointments",
        json={
            "request_id": request_id,
            "practitioner_id": world.titular.id,
            "start_at": start.isoformat(),
            "deadline_override_reason": "Test du changement d'heure",
        },
        headers=world.secretary,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def test_times_are_right_across_the_october_and_march_changes(client, world, db):
    assert world.today == dt.date(2026, 10, 19)
    days = {
        "summer_before_october": dt.date(2026, 10, 23),  # Friday, CEST (UTC+2)
        "winter_after_october": dt.date(2026, 10, 26),  # Monday, CET (UTC+1)
        "winter_before_march": dt.date(2027, 3, 26),  # Friday, CET (UTC+1)
        "summer_after_march": dt.date(2027, 3, 29),  # Monday, CEST (UTC+2)
    }
    for day in (days["winter_before_march"], days["summer_after_march"]):
        response = await client.post(
            "/api/me/sessions",
            params={"practitioner_id": world.titular.id},
            json={
                "date": day.isoformat(),
                "kind": "teleconsultation",
                "start_time": "14:00",
                "end_time": "16:00",
            },
            headers=world.coordinator,
        )
        assert response.status_code == 201, response.text
    ids = {name: await _book(client, world, db, local(day, 14)) for name, day in days.items()}
    response = await client.post("/api/me/ical-feeds", json={}, headers=world.gp)
    path = response.json()["url"].removeprefix("http://test")
    body = (await client.get(path)).content
    calendar = Calendar.from_ical(body)
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    expected_utc = {
        "summer_before_october": dt.datetime(2026, 10, 23, 12, 0, tzinfo=UTC),
        "winter_after_october": dt.datetime(2026, 10, 26, 13, 0, tzinfo=UTC),
        "winter_before_march": dt.datetime(2027, 3, 26, 13, 0, tzinfo=UTC),
        "summer_after_march": dt.datetime(2027, 3, 29, 12, 0, tzinfo=UTC),
    }
    for name, appointment_id in ids.items():
        event = events[f"rdv-{appointment_id}@test"]
        start = event.decoded("DTSTART")
        assert start.astimezone(UTC) == expected_utc[name], name
        assert (start.hour, start.minute) == (14, 0), name  # 14:00 on the wall clock
        assert event["DTSTART"].params["TZID"] == "Europe/Paris"
        local_text = f"DTSTART;TZID=Europe/Paris:{days[name]:%Y%m%d}T140000"
        assert local_text.encode() in body
    # The VTIMEZONE itself carries both rules: a client without its own tz database agrees.
    (vtimezone,) = calendar.walk("VTIMEZONE")
    assert str(vtimezone["TZID"]) == "Europe/Paris"
    offsets = {(c.name, c.decoded("TZOFFSETTO")) for c in vtimezone.subcomponents}
    assert ("STANDARD", dt.timedelta(hours=1)) in offsets
    assert ("DAYLIGHT", dt.timedelta(hours=2)) in offsets
    tz = vtimezone.to_tz()
    for name, day in days.items():
        wall = dt.datetime.combine(day, dt.time(14), tzinfo=tz)
        assert wall.astimezone(UTC) == expected_utc[name], name
