"""Database plumbing: one declarative Base, UTC timestamps, engines built from DATABASE_URL."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import DateTime, MetaData, TypeDecorator, event, func
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes stored in UTC; SQLite keeps no offset, so we normalise both ways."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: every instant is stored time-zone aware")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime()}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.now()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, server_default=func.now()
    )


def async_url(url: str) -> str:
    """Accept the usual DATABASE_URL forms and pick our async driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    for prefix, driver in (
        ("postgresql+psycopg://", "postgresql+asyncpg://"),
        ("postgresql+psycopg2://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite+pysqlite://", "sqlite+aiosqlite://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(prefix):
            return driver + url[len(prefix) :]
    return url


#: Execution option of a transaction that only reads (SQLite: a deferred BEGIN).
READ_ONLY = "premier_recours_read_only"


def make_engine(url: str, *, pool_size: int = 10, immediate: bool = True) -> AsyncEngine:
    """An async engine for DATABASE_URL; SQLite writers take the lock up front (`immediate`)."""
    url = async_url(url)
    if url.startswith("sqlite"):
        # No SQL parameters in logs or error texts: they carry patient data (issue 20).
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # SQLite upgrades read locks lazily; BEGIN IMMEDIATE serialises writers up
            # front so two bookings cannot both read "free" and then both write. A pure
            # read may say so (execution option READ_ONLY) and not queue for the lock.
            deferred = not immediate or conn.get_execution_options().get(READ_ONLY, False)
            conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_no_autobegin(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        return engine
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        hide_parameters=True,
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One unit of work per HTTP request: commit on success, roll back on error."""
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with maker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


def unreachable(exc: BaseException) -> bool:
    """Whether this error means "the database cannot be reached" rather than "this input or
    this query is wrong": refused or reset connections, a server shutting down or starting,
    an exhausted pool, SQLite busy past its time-out. Answered 503 (app/main.py)."""
    if isinstance(exc, OSError | PoolTimeout):  # TimeoutError is an OSError
        return True
    if isinstance(exc, DBAPIError):
        return (
            exc.connection_invalidated
            or isinstance(exc, OperationalError | InterfaceError)
            or isinstance(exc.orig, OSError)
        )
    return type(exc).__module__.startswith("asyncpg")  # raised raw while connecting


def unreachable_errors() -> tuple[type[BaseException], ...]:
    """The classes to route through ``unreachable`` (the driver's when installed)."""
    classes: list[type[BaseException]] = [OSError, PoolTimeout]
    try:
        from asyncpg import exceptions as pg
    except ImportError:  # pragma: no cover - SQLite-only installs
        return tuple(classes)
    # Connection refused or lost while connecting; server shutting down or starting up.
    classes += [pg.InterfaceError, pg.PostgresConnectionError, pg.OperatorInterventionError]
    return tuple(classes)


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
