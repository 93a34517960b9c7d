"""The periodic jobs registry: domains register here, the runner (worker or serve) runs them.

A job is an async callable taking the app. Which process runs it at each tick is
decided by the leader election (`app/outbox/leader.py`), never by who registered it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import NamedTuple

from fastapi import FastAPI

Job = Callable[[FastAPI], Awaitable[object]]  # what it returns is ignored


class PeriodicJob(NamedTuple):
    name: str
    interval: float  # seconds between two runs
    job: Job


def periodic_jobs(app: FastAPI) -> list[PeriodicJob]:
    """The app's jobs, in registration order (created empty on first use)."""
    jobs: list[PeriodicJob] | None = getattr(app.state, "periodic_jobs", None)
    if jobs is None:
        jobs = app.state.periodic_jobs = []
    return jobs


def register_periodic(app: FastAPI, name: str, interval: float, job: Job) -> None:
    """Run ``job`` every ``interval`` seconds, once across all processes; names are unique."""
    if interval <= 0:
        raise ValueError(f"periodic job {name}: the interval must be positive")
    jobs = periodic_jobs(app)
    if any(existing.name == name for existing in jobs):
        raise ValueError(f"periodic job {name} registered twice")
    jobs.append(PeriodicJob(name, float(interval), job))
