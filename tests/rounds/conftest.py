"""Rounds tests: the app with fast, deterministic solver settings, a roster and helpers."""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.core.timeutil import PARIS, at
from app.main import create_app
from app.rounds.config import RoundsSettings
from tests.conftest import _empty_tables
from tests.core.conftest import world  # noqa: F401
from tests.factories import make_patient

COMMUNES = {
    "Cachan": ("94230", "94016", 48.7914, 2.3336),
    "Fresnes": ("94260", "94034", 48.7558, 2.3222),
    "Rungis": ("94150", "94065", 48.7470, 2.3497),
    "Chevilly-Larue": ("94550", "94021", 48.7664, 2.3533),
    "L'Haÿ-les-Roses": ("94240", "94038", 48.7800, 2.3374),
}


@pytest.fixture
def rounds_settings() -> RoundsSettings:
    return RoundsSettings(
        osrm_url="",
        rounds_time_limit_s=0.5,
        rounds_replan_time_limit_s=0.3,
        rounds_seed=1,
        rounds_workers=1,
        proposal_lead_minutes=30,
        proposal_days_without_deadline=2,
    )


@pytest.fixture
async def app(settings, clock, rounds_settings) -> AsyncIterator:
    """The app with this test's rounds settings, set before the lifespan builds the planner."""
    application = create_app(settings, clock=clock)
    application.state.rounds_settings = rounds_settings
    await _empty_tables(application)
    async with application.router.lifespan_context(application):
        yield application
        await _empty_tables(application)


def hhmm(value: str) -> str:
    return dt.datetime.fromisoformat(value).astimezone(PARIS).strftime("%H:%M")


def local(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value).astimezone(PARIS)


async def new_patient(db, name: str, commune: str = "Cachan", **overrides):
    postal, insee, lat, lon = COMMUNES[commune]
    return await make_patient(
        db,
        family_name=name,
        given_name="Test",
        commune=commune,
        postal_code=postal,
        commune_insee=insee,
        latitude=lat,
        longitude=lon,
        **overrides,
    )


async def new_request(client, headers, patient_id: int, **overrides) -> dict:
    body = {"patient_id": patient_id, "reason": "Fièvre depuis hier", "urgency": "within_24h"}
    body.update(overrides)
    response = await client.post("/api/requests", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["request"]


async def book_visit(client, headers, request_id, practitioner_id, day, start, end) -> dict:
    """A home visit booked straight through the core API, promised start–end."""
    response = await client.post(
        "/api/appointments",
        json={
            "request_id": request_id,
            "practitioner_id": practitioner_id,
            "kind": "home_visit",
            "start_at": at(day, start).isoformat(),
            "end_at": at(day, end).isoformat(),
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


def travel_minutes(a: tuple[float, float], b: tuple[float, float], s: RoundsSettings) -> float:
    """Own haversine × circuity at the urban speed (never the app's numbers)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(h)) * s.circuity / s.speed_kmh * 60


class FakeOsrm:
    """A fake OSRM ``table`` service on 127.0.0.1: every trip takes ``seconds``."""

    def __init__(self, seconds: float = 600.0, hang: bool = False) -> None:
        self.seconds = seconds
        self.hang = hang
        self.release = threading.Event()
        self.calls = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                fake.calls += 1
                if fake.hang:
                    fake.release.wait(10)  # slower than the client's time-out
                coords = self.path.split("/table/v1/driving/")[1].split("?")[0].split(";")
                n = len(coords)
                body = {
                    "code": "Ok",
                    "durations": [
                        [0 if i == j else fake.seconds for j in range(n)] for i in range(n)
                    ],
                }
                data = json.dumps(body).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeOsrm:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_osrm() -> Iterator[FakeOsrm]:
    with FakeOsrm() as server:
        yield server
