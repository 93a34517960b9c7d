"""Alembic environment: async engines, batch mode so SQLite can alter tables."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.db import async_url
from app.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return async_url(config.get_main_option("sqlalchemy.url") or "")


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = create_async_engine(_url(), poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
    else:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(run_migrations_online())
        else:  # called from inside an event loop: run in a fresh thread's loop
            import threading

            errors: list[BaseException] = []

            def _target() -> None:
                try:
                    asyncio.run(run_migrations_online())
                except BaseException as exc:  # noqa: BLE001 - re-raised below
                    errors.append(exc)

            thread = threading.Thread(target=_target)
            thread.start()
            thread.join()
            if errors:
                raise errors[0]
