"""The outbox's state on the app: the handler registry, the periodic jobs and their leader."""

from __future__ import annotations

from fastapi import FastAPI

from app.core.config import Settings
from app.outbox.jobs import periodic_jobs
from app.outbox.leader import LeaderElection
from app.outbox.metrics import queue_snapshot


def setup(app: FastAPI, settings: Settings) -> None:
    app.state.outbox_handlers = {}
    app.state.queue_snapshot = queue_snapshot
    periodic_jobs(app)  # the registry the other domains fill (see app/outbox/jobs.py)
    # Which periodic jobs this process leads; the runner renews it, metrics read it.
    app.state.leader_election = LeaderElection(
        app.state.sessionmaker, lease_seconds=settings.leader_lease_seconds
    )
