"""Travel times on the GP's day: haversine at the rounds settings' speed."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from scheduler import HaversineTravelTime


def travel_provider(request: Request) -> Any:
    """Haversine with the rounds settings' speed when the rounds domain is wired."""
    rounds_settings = getattr(request.app.state, "rounds_settings", None)
    if rounds_settings is not None:
        return HaversineTravelTime(
            circuity=rounds_settings.circuity, speed_kmh=rounds_settings.speed_kmh
        )
    return HaversineTravelTime()
