"""Settings of the orientation domain: the section ``settings.orientation``.

The model lives in :mod:`app.core.sections` (the root settings alone read the
environment); the solver's parameters derive from it here.
"""

from __future__ import annotations

from app.core.sections import OrientationSettings
from app.orientation.matching import ARC_SCALE, MatchParameters

__all__ = ["OrientationSettings", "match_parameters"]


def match_parameters(settings: OrientationSettings) -> MatchParameters:
    return MatchParameters(
        max_travel_minutes=settings.max_travel_minutes,
        language_penalty=round(settings.language_penalty_minutes * ARC_SCALE),
        history_bonus=round(settings.history_bonus_minutes * ARC_SCALE),
    )
