"""Settings of the rounds domain: solver limits, seed and the travel-time source.

Built explicitly (``RoundsSettings()``) by the wiring; nothing is read at import time.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RoundsSettings(BaseSettings):
    """Solver and routing knobs; environment variables override the defaults."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Empty: offline haversine travel times. Set: an OSRM server's /table service.
    osrm_url: str = ""
    osrm_timeout_s: float = Field(default=2.0, gt=0)
    osrm_cache_size: int = Field(default=256, ge=1)
    circuity: float = Field(default=1.35, ge=1.0)
    speed_kmh: float = Field(default=22.0, gt=0)
    # A full optimisation (coordinator, worker) and a re-plan inside a request.
    rounds_time_limit_s: float = Field(default=5.0, gt=0)
    rounds_replan_time_limit_s: float = Field(default=1.0, gt=0)
    rounds_seed: int = 0
    # Threads for solver runs, kept off the event loop.
    rounds_workers: int = Field(default=1, ge=1)
    # A second search (from another first solution) in a worker process, side by
    # side with the first; the cheaper plan wins. It uses a second core: switch it
    # off on a one-core host.
    rounds_parallel_search: bool = True
    # Extra seconds granted to a solver thread beyond its own time limit.
    rounds_timeout_grace_s: float = Field(default=10.0, gt=0)
    # Proposals: days searched when a request has no deadline, and the shortest notice
    # before a new home visit can start today.
    proposal_days_without_deadline: int = Field(default=2, ge=1, le=14)
    proposal_lead_minutes: int = Field(default=30, ge=0)
    # The worker optimises today's and tomorrow's rounds up to this local time.
    optimise_before: dt.time = dt.time(10, 0)
