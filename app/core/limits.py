"""Counters shared by every process through the database (issue 20, findings 5).

The login throttle (app/accounts/throttle.py) and the webhook limit
(app/core/protection.py) count here, so that two or more web processes (``serve
--workers 2``, or several hosts) see one count per account, address or caller instead
of one per process. Each update is a single atomic ``INSERT … ON CONFLICT DO UPDATE …
RETURNING`` (PostgreSQL and SQLite ≥ 3.35), run in its own short transaction: a
request's own unit of work, rolled back on its 401 or 429, never undoes a count.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import String, case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import READ_ONLY, Base


class SharedLimit(Base):
    """One counter: a login key (account or address) or a webhook caller."""

    __tablename__ = "shared_limits"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int]
    # Webhooks: the minute being counted. Logins: the first failure of the run.
    window_start: Mapped[dt.datetime]
    last_at: Mapped[dt.datetime] = mapped_column(index=True)
    locked_until: Mapped[dt.datetime | None]


def _insert(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(SharedLimit)


async def count_in_window(
    maker: async_sessionmaker[AsyncSession], key: str, window_start: dt.datetime, now: dt.datetime
) -> int:
    """Add one to ``key`` in this window (a new window starts again at 1); the new count."""
    async with maker() as session, session.begin():
        stmt = _insert(session).values(
            key=key, count=1, window_start=window_start, last_at=now, locked_until=None
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[SharedLimit.key],
            set_={
                "count": case(
                    (SharedLimit.window_start == stmt.excluded.window_start, SharedLimit.count + 1),
                    else_=1,
                ),
                "window_start": stmt.excluded.window_start,
                "last_at": stmt.excluded.last_at,
            },
        ).returning(SharedLimit.count)
        return int((await session.execute(stmt)).scalar_one())


async def read(maker: async_sessionmaker[AsyncSession], keys: list[str]) -> list[SharedLimit]:
    """The counters of these keys; a read that takes no write lock (SQLite)."""
    async with maker() as session:
        await session.connection(execution_options={READ_ONLY: True})
        rows = list(await session.scalars(select(SharedLimit).where(SharedLimit.key.in_(keys))))
        await session.commit()
        return rows


async def add_failures(
    maker: async_sessionmaker[AsyncSession],
    keys: list[str],
    now: dt.datetime,
    *,
    forget_before: dt.datetime,
    lock_after: int,
    lock_for: dt.timedelta,
) -> list[tuple[int, bool]]:
    """Count one failure on each key, in one transaction: for each, (failures in the
    current run, whether this one locked it).

    A run starts again at 1 after a served lock or when the last failure is older than
    ``forget_before``. Exactly one caller sees ``locked`` true, however many processes
    fail at the same time (the lock is set only where none is).
    """
    results = []
    async with maker() as session, session.begin():
        for key in keys:
            stmt = _insert(session).values(
                key=key, count=1, window_start=now, last_at=now, locked_until=None
            )
            fresh = or_(
                SharedLimit.locked_until <= now,
                SharedLimit.locked_until.is_(None) & (SharedLimit.last_at < forget_before),
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=[SharedLimit.key],
                set_={
                    "count": case((fresh, 1), else_=SharedLimit.count + 1),
                    "window_start": case(
                        (fresh, stmt.excluded.window_start), else_=SharedLimit.window_start
                    ),
                    "locked_until": case(
                        (SharedLimit.locked_until <= now, None), else_=SharedLimit.locked_until
                    ),
                    "last_at": stmt.excluded.last_at,
                },
            ).returning(SharedLimit.count, SharedLimit.locked_until)
            failures, locked_until = (await session.execute(stmt)).one()
            locked = False
            if failures >= lock_after and locked_until is None:
                done = await session.execute(
                    update(SharedLimit)
                    .where(SharedLimit.key == key, SharedLimit.locked_until.is_(None))
                    .values(locked_until=now + lock_for)
                )
                locked = bool(getattr(done, "rowcount", 0))
            results.append((int(failures), locked))
    return results


async def clear(maker: async_sessionmaker[AsyncSession], key: str) -> None:
    async with maker() as session, session.begin():
        await session.execute(delete(SharedLimit).where(SharedLimit.key == key))


def stale(now: dt.datetime, older_than: dt.timedelta) -> Any:
    """Counters nobody needs any more (for the daily retention job)."""
    return (SharedLimit.last_at < now - older_than) & or_(
        SharedLimit.locked_until.is_(None), SharedLimit.locked_until < now
    )
