"""`premier-recours worker`: the outbox and the periodic jobs, in one process."""

from __future__ import annotations

import asyncio
import logging
import signal
import time

from fastapi import FastAPI

from app.outbox.worker import OutboxWorker

log = logging.getLogger(__name__)


async def run_periodic_jobs(app: FastAPI, stop: asyncio.Event) -> None:
    """Each registered job runs at its interval; one failing job never stops the others."""
    last_run: dict[str, float] = {}
    while not stop.is_set():
        for name, interval, job in list(app.state.periodic_jobs):
            if time.monotonic() - last_run.get(name, -interval) < interval:
                continue
            last_run[name] = time.monotonic()
            try:
                await job(app)
            except Exception:
                log.exception("periodic job %s failed", name)
        try:
            await asyncio.wait_for(stop.wait(), timeout=5)
        except TimeoutError:
            pass


async def run_worker(app: FastAPI, *, once: bool = False) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with app.router.lifespan_context(app):
        worker = OutboxWorker(app)
        if once:
            for _, _, job in list(app.state.periodic_jobs):
                await job(app)
            return await worker.drain()
        log.info("worker %s started", worker.name)
        await asyncio.gather(worker.run_forever(stop=stop), run_periodic_jobs(app, stop))
    return 0
