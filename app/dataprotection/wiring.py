"""The retention job runs once a day in the worker."""

from __future__ import annotations

from fastapi import FastAPI

from app.core.config import Settings
from app.dataprotection import retention


def setup(app: FastAPI, settings: Settings) -> None:
    jobs = getattr(app.state, "periodic_jobs", None)
    if jobs is None:
        jobs = app.state.periodic_jobs = []
    jobs.append((retention.JOB, retention.INTERVAL_S, retention.periodic))
