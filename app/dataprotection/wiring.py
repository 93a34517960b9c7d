"""The retention job runs once a day in the worker (one leader, like every periodic job)."""

from __future__ import annotations

from fastapi import FastAPI

from app.core.config import Settings
from app.dataprotection import retention
from app.outbox.jobs import register_periodic


def setup(app: FastAPI, settings: Settings) -> None:
    register_periodic(app, retention.JOB, retention.INTERVAL_S, retention.periodic)
