"""The outbox and the periodic jobs, run by `premier-recours worker` or inside `serve`.

Both paths run the same loops: the outbox worker (claims with `SKIP LOCKED`, so any
number of processes share the queue) and the periodic jobs, each run at each tick
by the one process that leads it (`app/outbox/leader.py`).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time

from fastapi import FastAPI

from app.outbox.jobs import PeriodicJob, periodic_jobs
from app.outbox.leader import LeaderElection
from app.outbox.worker import OutboxWorker, RetryPolicy

log = logging.getLogger(__name__)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=max(0.0, seconds))
    except TimeoutError:
        pass


async def keep_leases(
    election: LeaderElection, jobs: list[PeriodicJob], stop: asyncio.Event
) -> None:
    """Renew this process's leases until stopped; a failed renewal lets the leases run out."""
    every = election.renew_every(jobs)
    while not stop.is_set():
        try:
            await election.renew(jobs)
        except Exception:
            log.exception("periodic job leases could not be renewed")
            election.drop_lapsed()
        await _pause(stop, every)


async def run_periodic_jobs(
    app: FastAPI, stop: asyncio.Event, *, election: LeaderElection | None = None
) -> None:
    """Run each job this process leads at its interval; one failing job never stops the others.

    Leases are renewed by a task of their own, so a long job keeps its lead while
    it runs. On the way out the leases are handed back.
    """
    jobs = list(periodic_jobs(app))
    if not jobs:
        await stop.wait()
        return
    election = election or app.state.leader_election
    every = election.renew_every(jobs)
    renewals = asyncio.create_task(keep_leases(election, jobs, stop))
    next_try: dict[str, float] = {}
    try:
        while not stop.is_set():
            for job in jobs:
                if stop.is_set():
                    break
                if not election.is_leader(job.name):
                    next_try.pop(job.name, None)
                    continue
                if time.monotonic() < next_try.get(job.name, 0.0):
                    continue
                try:
                    claimed, wait = await election.claim_run(job)
                except Exception:
                    log.exception("periodic job %s could not be claimed", job.name)
                    next_try[job.name] = time.monotonic() + every
                    continue
                if not claimed:
                    next_try[job.name] = time.monotonic() + wait
                    continue
                next_try[job.name] = time.monotonic() + job.interval
                try:
                    await job.job(app)
                except Exception:
                    log.exception("periodic job %s failed", job.name)
            now = time.monotonic()
            soonest = min(
                (next_try[job.name] for job in jobs if job.name in next_try), default=now + every
            )
            await _pause(stop, min(every, soonest - now))
    finally:
        if not stop.is_set():  # an error or a cancellation: stop renewing at once
            renewals.cancel()
        try:
            await renewals
        except asyncio.CancelledError:
            pass
        try:
            await election.resign()
        except Exception:
            log.exception("periodic job leases could not be handed back")


async def run_background(
    app: FastAPI,
    stop: asyncio.Event,
    *,
    policy: RetryPolicy | None = None,
    poll_seconds: float = 1.0,
) -> None:
    """The outbox worker and the periodic jobs, until ``stop`` is set."""
    worker = OutboxWorker(app, policy=policy)
    log.info("outbox worker %s and periodic jobs started", worker.name)
    await asyncio.gather(
        worker.run_forever(stop=stop, poll_seconds=poll_seconds), run_periodic_jobs(app, stop)
    )


async def run_worker(app: FastAPI, *, once: bool = False, policy: RetryPolicy | None = None) -> int:
    """`premier-recours worker`: until SIGINT/SIGTERM, or one pass with ``once``."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with app.router.lifespan_context(app):
        if once:
            # A manual pass (operations, tests): every job once, whoever leads it.
            for job in list(periodic_jobs(app)):
                await job.job(app)
            return await OutboxWorker(app, policy=policy).drain()
        await run_background(app, stop, policy=policy)
    return 0


class InProcessWorker:
    """The background loops inside `serve` (RUN_WORKER_IN_PROCESS), started by the lifespan."""

    #: Polls more often than a separate worker: the console SMS should show within a second.
    POLL_SECONDS = 0.5

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(
            run_background(self.app, self._stop, poll_seconds=self.POLL_SECONDS),
            name="premier-recours-in-process-worker",
        )

    async def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self._task, timeout=timeout)
        except TimeoutError:
            log.warning("in-process worker still busy after %.0f s: cancelled", timeout)
        except Exception:
            log.exception("in-process worker failed")
