"""The app takes its travel times from OSRM when OSRM_URL is set, offline when it fails."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.rounds.config import RoundsSettings
from scheduler import OsrmTravelTime
from tests.rounds.conftest import FakeOsrm, new_patient, new_request, travel_minutes


@pytest.fixture
def fake_osrm(request) -> Iterator[FakeOsrm]:
    with FakeOsrm(seconds=600.0, hang=getattr(request, "param", False)) as server:
        yield server


@pytest.fixture
def rounds_settings(fake_osrm) -> RoundsSettings:
    return RoundsSettings(
        osrm_url=fake_osrm.url,
        osrm_timeout_s=0.3,
        rounds_time_limit_s=0.5,
        rounds_replan_time_limit_s=0.3,
        rounds_seed=1,
        proposal_days_without_deadline=1,
    )


async def _adjoint_option(client, world, db) -> tuple[dict, tuple[float, float]]:
    patient = await new_patient(db, "Carpentier", "Rungis")
    request = await new_request(
        client, world.secretary, patient.id, modality="home_visit", urgency="same_day"
    )
    response = await client.get(f"/api/requests/{request['id']}/proposals", headers=world.secretary)
    assert response.status_code == 200, response.text
    options = [o for o in response.json()["options"] if o["practitioner_id"] == world.adjoint.id]
    assert options
    return options[0], (patient.latitude, patient.longitude)


async def test_travel_times_come_from_osrm(client, world, db, app, fake_osrm):
    assert isinstance(app.state.rounds_planner.travel, OsrmTravelTime)
    option, _where = await _adjoint_option(client, world, db)
    # Ten minutes out, ten back, as the fake server says (haversine would differ).
    assert option["added_travel_minutes"] == 20.0
    assert "+20 min de trajet" in option["label"]
    assert fake_osrm.calls >= 1
    run = await client.post(f"/api/rounds/{world.today}/optimise", headers=world.coordinator)
    assert run.json()["travel_provider"] == "osrm"


@pytest.mark.parametrize("fake_osrm", [True], indirect=True)
async def test_a_slow_osrm_falls_back_to_offline_times(
    client, world, db, app, fake_osrm, rounds_settings
):
    option, where = await _adjoint_option(client, world, db)
    home = (world.adjoint.latitude, world.adjoint.longitude)
    expected = 2 * travel_minutes(home, where, rounds_settings)
    assert abs(option["added_travel_minutes"] - expected) <= 0.2
    assert option["added_travel_minutes"] != 20.0
    assert app.state.rounds_planner.travel.fallbacks >= 1
