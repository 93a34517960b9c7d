"""One API voice: every instant with the Paris offset, people named, a run's real times."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from app.core.timeutil import PARIS, at
from tests.rounds.conftest import book_visit, new_patient, new_request

INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?$")
# 7 December 2026 is winter time: Europe/Paris is UTC+1.
PARIS_OFFSET = "+01:00"


def _instants(value: Any, where: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [i for key, item in value.items() for i in _instants(item, f"{where}.{key}")]
    if isinstance(value, list):
        return [i for n, item in enumerate(value) for i in _instants(item, f"{where}[{n}]")]
    if isinstance(value, str) and INSTANT.match(value):
        return [(where, value)]
    return []


async def _morning(client, world, db) -> tuple[dict, dict]:
    """One visit booked for Dr Martin, one request still open, the rounds optimised."""
    patient = await new_patient(db, "Lambert", "Fresnes")
    request = await new_request(client, world.secretary, patient.id, modality="home_visit")
    booked = await book_visit(
        client,
        world.secretary,
        request["id"],
        world.titular.id,
        world.today,
        dt.time(10),
        dt.time(13),
    )
    other = await new_patient(db, "Perrin", "Cachan")
    open_request = await new_request(client, world.secretary, other.id, modality="home_visit")
    run = await client.post(f"/api/rounds/{world.today}/optimise", headers=world.coordinator)
    assert run.status_code == 200, run.text
    return booked, open_request


async def test_every_instant_of_the_api_has_the_paris_offset(client, world, db):
    booked, open_request = await _morning(client, world, db)
    gp, day = world.titular.id, world.today
    reads = {
        "request": (f"/api/requests/{open_request['id']}", world.secretary),
        "requests": ("/api/requests", world.secretary),
        "proposals": (f"/api/requests/{open_request['id']}/proposals", world.secretary),
        "rounds": (f"/api/rounds/{day}", world.secretary),
        "runs": (f"/api/rounds/{day}/runs", world.coordinator),
        "agenda": (f"/api/practitioners/{gp}/agenda?date={day}", world.secretary),
        "free_slots": (f"/api/practitioners/{gp}/free-slots", world.secretary),
        "sessions": (f"/api/practitioners/{gp}/sessions", world.secretary),
        "appointment": (f"/api/appointments/{booked['id']}", world.secretary),
        "gp_agenda": (f"/api/me/agenda?from={day}", world.gp),
        "gp_sessions": ("/api/me/sessions", world.gp),
        "audit": (f"/api/audit/patients/{booked['patient_id']}", world.coordinator),
        "outbox": ("/api/outbox", world.coordinator),
    }
    seen: dict[str, list[tuple[str, str]]] = {}
    for name, (url, headers) in reads.items():
        response = await client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.text)
        seen[name] = _instants(response.json(), name)
    wrong = [(w, v) for found in seen.values() for w, v in found if not v.endswith(PARIS_OFFSET)]
    assert wrong == []
    # The contradictions the issue measured, now each in the same voice.
    fields = {w.rsplit(".", 1)[-1] for found in seen.values() for w, _ in found}
    assert {"deadline", "start_at", "depart_at", "back_at", "planned_arrival"} <= fields
    assert {"started_at", "finished_at", "received_at"} <= fields
    assert sum(len(found) for found in seen.values()) >= 40


async def test_a_run_names_people_and_has_real_times(client, world, db):
    await _morning(client, world, db)
    run = (await client.get(f"/api/rounds/{world.today}/runs", headers=world.coordinator)).json()[0]
    summary = run["summary"]
    # Was "2 : 1 visite(s), 30 min de trajet — a1 10:00–11:00" (ids for people).
    assert summary.startswith("Dr Claire Martin : 1 visite, 30 min de trajet — LAMBERT Test ")
    assert "Dr Karim Bernard sans tournée : pas de vacation de visites ce jour" in summary
    assert not re.search(r"(^|\s)a?\d+ :", summary), summary
    started = dt.datetime.fromisoformat(run["started_at"])
    finished = dt.datetime.fromisoformat(run["finished_at"])
    # The clock is frozen in tests: the gap is the run's own measured duration.
    assert dt.timedelta(0) < finished - started < dt.timedelta(seconds=run["time_limit_s"] + 30)


async def test_an_instant_sent_in_utc_comes_back_in_paris_time(client, world, db, clock):
    """Booked with ``…T13:00:00Z``: the appointment and its audit trail say 14:00+01:00."""
    patient = await new_patient(db, "Roux")
    request = await new_request(client, world.secretary, patient.id)
    start = at(world.today, dt.time(14), PARIS).astimezone(dt.UTC)
    response = await client.post(
        "/api/appointments",
        json={
            "request_id": request["id"],
            "practitioner_id": world.other_titular.id,
            "start_at": start.isoformat().replace("+00:00", "Z"),
        },
        headers=world.secretary,
    )
    assert response.status_code == 201, response.text
    assert response.json()["start_at"] == f"{world.today}T14:00:00+01:00"
    audit = await client.get(f"/api/audit/patients/{patient.id}", headers=world.coordinator)
    found = _instants(audit.json(), "audit")
    assert any(v == f"{world.today}T14:00:00+01:00" for _, v in found), found
    assert all(v.endswith(PARIS_OFFSET) for _, v in found), found
