"""Test harness: a real database built by the migrations, a fresh app per test.

`TEST_DATABASE_URL` chooses the database (default: a SQLite file); on PostgreSQL an
unreachable server is an error, never a skip.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import inspect, text

from app.core import migrate
from app.core.clock import FixedClock
from app.core.config import Settings
from app.core.db import make_engine, make_sessionmaker
from app.main import create_app
from app.models import Base
from app.territory import service as territory

# A Monday in the platform's normal week, before the secretariat opens.
MONDAY_0830 = dt.datetime(2026, 12, 7, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def _database_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    folder = Path(tempfile.mkdtemp(prefix="premier-recours-tests-"))
    return f"sqlite:///{folder / 'test.db'}"


@pytest.fixture(scope="session")
def database_url() -> str:
    url = _database_url()
    if url.startswith("postgres"):
        import asyncio

        async def _reset() -> None:
            engine = make_engine(url)
            async with engine.begin() as conn:
                await conn.execute(text("DROP SCHEMA public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
            await engine.dispose()

        asyncio.run(_reset())
    migrate.upgrade(url)
    return url


@pytest.fixture
def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgres")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY_0830)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret-not-for-production",
        demo=False,
        public_base_url="http://test",
        session_horizon_days=14,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        run_worker_in_process=False,  # tests drain the outbox themselves
        # Tests move the clock by days or weeks: tokens and web sessions outlast them
        # (their expiry is tested with these values, tests/web/test_server_sessions.py).
        token_lifetime_minutes=60 * 24 * 60,
        session_idle_minutes=30 * 24 * 60,
        session_absolute_hours=90 * 24,
    )


async def _empty_tables(app) -> None:
    engine = app.state.engine
    async with engine.begin() as conn:
        existing = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        tables = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name in existing]
        # DELETE, children first, on both databases: on PostgreSQL a TRUNCATE of every
        # table costs about 0.2 s (new files for each table and index), DELETE of a test's
        # few rows about 0.02 s, twice per test. RESTRICT acts row by row: unlink adjoints
        # from titulars first.
        await conn.execute(text("UPDATE practitioners SET titular_id = NULL"))
        for name in tables:
            await conn.execute(text(f"DELETE FROM {name}"))
        if engine.dialect.name == "postgresql":
            # Ids start at 1 again in every test, as TRUNCATE … RESTART IDENTITY did.
            await conn.execute(
                text(
                    "SELECT setval(c.oid, 1, false) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relkind = 'S' AND n.nspname = current_schema()"
                )
            )
    # Every test starts on the demo territory (its communes place patients and GPs).
    async with app.state.sessionmaker() as session, session.begin():
        await territory.import_territory(
            session=session, data=territory.read_file(territory.DEMO_TERRITORY_FILE)
        )


@pytest.fixture
async def app(settings: Settings, clock: FixedClock) -> AsyncIterator:
    application = create_app(settings, clock=clock)
    await _empty_tables(application)
    # httpx's ASGI transport sends no lifespan events: run the app's own here.
    async with application.router.lifespan_context(application):
        yield application
        await _empty_tables(application)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture
async def db(app, database_url: str):
    """A session for arranging and checking data, beside the app's own engine.

    Its transactions are deferred on SQLite so that a read in a test never holds
    the write lock the app's requests need.
    """
    engine = make_engine(database_url, immediate=False, pool_size=2)
    async with make_sessionmaker(engine)() as session:
        yield session
    await engine.dispose()
