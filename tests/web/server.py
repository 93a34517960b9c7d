"""The real server for browser tests: migrated fresh database, demo territory, uvicorn thread."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import secrets
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import text

from app.core import migrate
from app.core.clock import FixedClock
from app.core.config import Settings
from app.core.db import make_engine, make_sessionmaker
from app.core.security import configure_hashing
from app.core.timeutil import PARIS
from app.demo import seed as demo_seed
from app.main import create_app

# Monday 7 December 2026, 08:30 in Paris: the whole working week is ahead.
NOW = dt.datetime(2026, 12, 7, 8, 30, tzinfo=PARIS)


def run_async(coro: Any) -> Any:
    """Run a coroutine to completion in its own thread (Playwright's sync API owns this one)."""
    box: dict[str, Any] = {}

    def _target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=_target)
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _admin_url(url: str, database: str) -> str:
    head, _, _ = url.rpartition("/")
    return f"{head}/{database}"


@contextmanager
def fresh_database() -> Iterator[str]:
    """A database of our own: a SQLite file, or a dedicated PostgreSQL database."""
    base = os.environ.get("TEST_DATABASE_URL", "")
    if not base.startswith("postgres"):
        folder = Path(tempfile.mkdtemp(prefix="premier-recours-web-"))
        yield f"sqlite:///{folder / 'web.db'}"
        return
    name = f"pr_web_{secrets.token_hex(4)}"

    async def _admin(statement: str) -> None:
        engine = make_engine(_admin_url(base, "postgres"))
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(statement))
        await engine.dispose()

    run_async(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield _admin_url(base, name)
    finally:
        run_async(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _seed(url: str) -> None:
    engine = make_engine(url)
    async with make_sessionmaker(engine)() as session, session.begin():
        await demo_seed.seed(session=session, today=NOW.date(), horizon_days=14)
    await engine.dispose()


async def query(url: str, sql: str, **params: Any) -> list[Any]:
    """Read the server's database from a test (checks only, never arranging)."""
    engine = make_engine(url, immediate=False, pool_size=1)
    async with engine.connect() as conn:
        rows = (await conn.execute(text(sql), params)).all()
    await engine.dispose()
    return list(rows)


@dataclass
class LiveServer:
    base_url: str
    database_url: str
    clock: FixedClock


@contextmanager
def live_server() -> Iterator[LiveServer]:
    with fresh_database() as url:
        run_async(asyncio.to_thread(migrate.upgrade, url))
        configure_hashing(time_cost=1, memory_cost_kib=1024)
        run_async(_seed(url))
        settings = Settings(
            database_url=url,
            secret_key="browser-tests-secret",
            demo=True,
            session_horizon_days=14,
            argon2_time_cost=1,
            argon2_memory_kib=1024,
        )
        clock = FixedClock(NOW)
        app = create_app(settings, clock=clock)
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:  # readiness, not synchronisation of the tests themselves
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the web server did not start")
            time.sleep(0.05)
        try:
            yield LiveServer(f"http://127.0.0.1:{port}", url, clock)
        finally:
            server.should_exit = True
            thread.join(timeout=15)
