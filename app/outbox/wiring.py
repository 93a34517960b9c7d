"""The outbox's state on the app: the handler registry and the periodic jobs list."""

from __future__ import annotations

from fastapi import FastAPI

from app.core.config import Settings


def setup(app: FastAPI, settings: Settings) -> None:
    app.state.outbox_handlers = {}
    if not hasattr(app.state, "periodic_jobs"):
        # (name, interval in seconds, async callable taking the app), run by the worker.
        app.state.periodic_jobs = []
