"""One process of the scale-out tests: a real worker or web process with test work to do.

Run as ``python -m tests.outbox.worker_process`` with the environment:

- ``DATABASE_URL``: the shared database (already migrated);
- ``PR_ROLE``: ``worker`` (our `run_worker`) or ``serve`` (uvicorn with the app's
  in-process worker, as `premier-recours serve` runs it);
- ``PR_LOG``: a file where each send or job run appends one line (``O_APPEND``);
- ``PR_JOB_INTERVAL``: when set, the only periodic job is ``test.tick`` at this
  interval, appending ``tick <claim time> <pid> <claimer pid>`` at each run;
- ``PR_LEASE_SECONDS``: the outbox lease (a killed worker's messages come back after it);
- ``PR_SEND_SECONDS``: how long one send takes.

Outbox messages of topic ``test`` are "sent" by appending ``send <key> <pid>``; the
process appends ``ready <role> <pid>`` once its app has started.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time

import uvicorn

from app.core.config import Settings
from app.main import create_app
from app.outbox.jobs import periodic_jobs, register_periodic
from app.outbox.models import PeriodicJobLease
from app.outbox.registry import register
from app.outbox.runner import run_worker
from app.outbox.worker import RetryPolicy


def _append(line: str) -> None:
    fd = os.open(os.environ["PR_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


async def _send(message, app) -> dict:
    # A provider's round trip, so that a batch takes a while.
    await asyncio.sleep(float(os.environ.get("PR_SEND_SECONDS", "0.02")))
    _append(f"send {message.key} {os.getpid()} {time.time():.3f} {message.attempts}")
    return {}


async def _tick(app) -> None:
    # The time of the claim that let this run start, as the database holds it.
    async with app.state.sessionmaker() as session:
        lease = await session.get(PeriodicJobLease, "test.tick")
    claimed_by = int(lease.last_run_by.split(":")[1])
    _append(f"tick {lease.last_run_at.timestamp():.6f} {os.getpid()} {claimed_by}")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    role = os.environ["PR_ROLE"]
    settings = Settings(
        run_worker_in_process=role == "serve",
        argon2_time_cost=1,
        argon2_memory_kib=1024,
    )
    app = create_app(settings)
    register(app, "test", _send)

    async def ready(app) -> None:
        _append(f"ready {role} {os.getpid()}")

    app.state.on_startup.append(ready)
    interval = os.environ.get("PR_JOB_INTERVAL")
    periodic_jobs(app).clear()  # only the test's own job, if any
    if interval:
        register_periodic(app, "test.tick", float(interval), _tick)
    if role == "worker":
        policy = RetryPolicy(lease_seconds=float(os.environ.get("PR_LEASE_SECONDS", "120")))
        asyncio.run(run_worker(app, policy=policy))
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
