"""Travel times on the GP's day: haversine at the rounds settings' speed."""

from __future__ import annotations

from fastapi import Request

from scheduler import HaversineTravelTime


def travel_provider(request: Request) -> HaversineTravelTime:
    """The rounds' own estimate (circuity, speed), so the day view and the plan agree."""
    rounds_settings = request.app.state.rounds_settings
    return HaversineTravelTime(
        circuity=rounds_settings.circuity, speed_kmh=rounds_settings.speed_kmh
    )
