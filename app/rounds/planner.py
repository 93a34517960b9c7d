"""The solver's place in the app: travel provider, thread pool, parameters from settings."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import httpx

from app.core.errors import DomainError
from app.rounds.config import RoundsSettings
from scheduler import HaversineTravelTime, OsrmTravelTime, Parameters, TravelTimeProvider

T = TypeVar("T")


class SolverUnavailable(DomainError):
    status_code = 503
    code = "solver_unavailable"
    default_message = "Le calcul des tournées n'a pas abouti à temps ; réessayez."


@dataclass
class Planner:
    """Runs scheduler calls off the event loop with the app's travel times and limits."""

    settings: RoundsSettings
    window_minutes: int = 60
    home_visit_minutes: int = 20
    travel: TravelTimeProvider = field(default_factory=HaversineTravelTime)
    executor: ThreadPoolExecutor | None = None
    client: httpx.Client | None = None
    # The app's appointment listeners, told when a round narrows a window (SMS to the patient).
    listeners: list = field(default_factory=list)

    @classmethod
    def from_settings(
        cls, settings: RoundsSettings, *, window_minutes: int = 60, home_visit_minutes: int = 20
    ) -> Planner:
        """A planner with the travel provider the settings ask for (OSRM or haversine)."""
        offline = HaversineTravelTime(circuity=settings.circuity, speed_kmh=settings.speed_kmh)
        client = None
        travel: TravelTimeProvider = offline
        if settings.osrm_url:
            client = httpx.Client(timeout=settings.osrm_timeout_s)
            travel = OsrmTravelTime(
                settings.osrm_url,
                timeout_s=settings.osrm_timeout_s,
                fallback=offline,
                cache_size=settings.osrm_cache_size,
                client=client,
            )
        return cls(
            settings=settings,
            window_minutes=window_minutes,
            home_visit_minutes=home_visit_minutes,
            travel=travel,
            client=client,
        )

    @property
    def travel_name(self) -> str:
        return "osrm" if isinstance(self.travel, OsrmTravelTime) else "haversine"

    def params(self, *, time_limit_s: float | None = None) -> Parameters:
        """Solver parameters: deterministic work budget, the settings' seed, speeds, rival."""
        params = Parameters(
            time_limit_s=time_limit_s or self.settings.rounds_time_limit_s,
            seed=self.settings.rounds_seed,
            window_width=self.window_minutes,
            circuity=self.settings.circuity,
            speed_kmh=self.settings.speed_kmh,
        )
        if not self.settings.rounds_parallel_search:
            params = replace(params, rival_first_solutions=())
        return params

    def start(self) -> None:
        if self.executor is None:
            self.executor = ThreadPoolExecutor(
                max_workers=self.settings.rounds_workers, thread_name_prefix="rounds-solver"
            )

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None
        if self.client is not None:
            self.client.close()
            self.client = None

    async def run(
        self, fn: Callable[..., T], /, *args: Any, time_limit_s: float = 0.0, **kwargs: Any
    ) -> T:
        """Run ``fn`` in the solver threads; give up after its limit plus a grace period."""
        loop = asyncio.get_running_loop()
        call = functools.partial(fn, *args, **kwargs)
        future = loop.run_in_executor(self.executor, call)
        try:
            return await asyncio.wait_for(
                future, timeout=time_limit_s + self.settings.rounds_timeout_grace_s
            )
        except TimeoutError as exc:
            raise SolverUnavailable() from exc
