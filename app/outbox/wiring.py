"""The outbox's state on the app: the handler registry and the periodic jobs list."""

from __future__ import annotations

from fastapi import FastAPI

from app.core.config import Settings
from app.outbox.metrics import queue_snapshot


def setup(app: FastAPI, settings: Settings) -> None:
    app.state.outbox_handlers = {}
    app.state.queue_snapshot = queue_snapshot
    if not hasattr(app.state, "periodic_jobs"):
        # (name, interval in seconds, async callable taking the app), run by the worker.
        app.state.periodic_jobs = []
