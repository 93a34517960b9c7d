"""The migrations go up from an empty database to head, and back down to empty."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from app.core import migrate
from app.core.db import make_engine
from app.models import Base


async def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    return names - {"alembic_version"}


async def _schema_drift(url: str) -> list:
    """What autogenerate would still write: models and migrations must agree."""
    engine = make_engine(url)
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
            )
        )
    await engine.dispose()
    return diff


def _scratch_database(database_url: str) -> tuple[str, callable]:
    if not database_url.startswith("postgres"):
        path = Path(tempfile.mkdtemp()) / "migrations.db"
        return f"sqlite:///{path}", lambda: None
    name = f"pr_migrations_{uuid.uuid4().hex[:8]}"

    async def _run(sql: str) -> None:
        admin = make_engine(database_url)  # one engine per event loop
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(sql))
        await admin.dispose()

    asyncio.run(_run(f"CREATE DATABASE {name}"))
    base, _, _ = database_url.rpartition("/")

    def drop() -> None:
        asyncio.run(_run(f"DROP DATABASE IF EXISTS {name}"))

    return f"{base}/{name}", drop


def test_upgrade_to_head_and_downgrade_to_base(database_url):
    url, drop = _scratch_database(database_url)
    try:
        migrate.upgrade(url)
        assert asyncio.run(_tables(url)) == set(Base.metadata.tables)
        migrate.downgrade(url, "base")
        assert asyncio.run(_tables(url)) == set()
        migrate.upgrade(url)  # and up again: downgrade left nothing behind
        assert asyncio.run(_tables(url)) == set(Base.metadata.tables)
        assert asyncio.run(_schema_drift(url)) == []
    finally:
        drop()
