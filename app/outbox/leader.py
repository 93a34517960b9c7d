"""Leader election for the periodic jobs: one lease row per job in `periodic_job_leases`.

Any number of workers and API processes run the same periodic jobs; each job must
still run once per tick. Each process renews a lease on every job it may run; the
holder of a job's lease is its leader. A leader that dies stops renewing: its lease
runs out (after at most half the job's interval, see :meth:`LeaderElection.ttl`) and
the next process to renew takes the job over, within one interval. A process that
stops cleanly hands its leases back at once.

Why a lease row and not a PostgreSQL advisory lock: it behaves the same on SQLite
(`serve` and a `worker` on one file) and PostgreSQL, pins no connection for the
process's life (so it survives pool recycling and PgBouncer's transaction mode),
and keeps each job's last run in the database, so a new leader carries on the
schedule instead of running the job again at once.

Exactly once per tick: holding the lease is not enough (a process paused past its
lease wakes up believing it leads). Each run is also claimed by a conditional
UPDATE of ``last_run_at``, which succeeds only for the lease holder and only when
the last run is a full interval old; two claims of one tick cannot both succeed.
Times are the processes' wall clocks in UTC, as for the outbox leases: keep the
machines' clocks synchronised (NTP).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from collections.abc import Callable, Iterable
from typing import Any, cast

from fastapi import FastAPI
from sqlalchemy import CursorResult, Update, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core import metrics
from app.core.db import utcnow
from app.outbox.jobs import PeriodicJob
from app.outbox.models import PeriodicJobLease

log = logging.getLogger(__name__)

#: Shortest lease, whatever the job's interval (renewals must keep up with it).
MIN_TTL_SECONDS = 0.5


async def _update(session: AsyncSession, statement: Update) -> CursorResult[Any]:
    """Run an UPDATE; its result tells how many rows matched (the test-and-set)."""
    return cast(CursorResult[Any], await session.execute(statement))


class LeaderElection:
    """This process's candidacy for each periodic job; `is_leader` tells what it holds."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        lease_seconds: float = 30.0,
        holder: str | None = None,
        now: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.lease_seconds = lease_seconds
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._now = now
        self._known: set[str] = set()
        # Job name → end of the lease this process holds (as last renewed).
        self._held: dict[str, dt.datetime] = {}

    def ttl(self, job: PeriodicJob) -> float:
        """A lease lasts at most half the job's interval: a dead leader is replaced in time."""
        return max(MIN_TTL_SECONDS, min(self.lease_seconds, job.interval / 2))

    def renew_every(self, jobs: Iterable[PeriodicJob]) -> float:
        """How often to renew: three times per shortest lease."""
        return min((self.ttl(job) for job in jobs), default=self.lease_seconds) / 3

    def _lead(self, name: str, until: dt.datetime | None) -> None:
        """Record this process's lead of a job (or its end), logged and in the metrics."""
        was_leader = name in self._held
        if until is not None:
            self._held[name] = until
            if not was_leader:
                log.info("leader of periodic job %s: %s", name, self.holder)
                metrics.set_leader(name, True)
        elif was_leader:
            del self._held[name]
            log.info("no longer leader of periodic job %s", name)
            metrics.set_leader(name, False)

    def drop_lapsed(self) -> None:
        """Forget leases that ran out unrenewed (the database could not be reached)."""
        now = self._now()
        for name, until in list(self._held.items()):
            if until <= now:
                self._lead(name, None)

    def is_leader(self, name: str) -> bool:
        """Whether this process holds the job's lease now (as of its last renewal)."""
        until = self._held.get(name)
        return until is not None and until > self._now()

    def leading(self) -> list[str]:
        """The jobs this process leads now, by name (for metrics and logs)."""
        return sorted(name for name in self._held if self.is_leader(name))

    async def _ensure_rows(self, session: AsyncSession, jobs: list[PeriodicJob]) -> None:
        missing = [job.name for job in jobs if job.name not in self._known]
        if not missing:
            return
        dialect = session.get_bind().dialect.name
        rows = [{"name": name} for name in missing]
        if dialect == "postgresql":
            await session.execute(pg_insert(PeriodicJobLease).values(rows).on_conflict_do_nothing())
        elif dialect == "sqlite":
            await session.execute(
                sqlite_insert(PeriodicJobLease).values(rows).on_conflict_do_nothing()
            )
        else:  # pragma: no cover - the service runs on PostgreSQL or SQLite only
            raise RuntimeError(f"unsupported database: {dialect}")
        self._known.update(missing)

    async def renew(self, jobs: Iterable[PeriodicJob]) -> list[str]:
        """Renew (or take, if free or expired) each job's lease; returns the jobs led."""
        jobs = sorted(jobs, key=lambda job: job.name)  # same lock order in every process
        async with self.sessionmaker() as session, session.begin():
            await self._ensure_rows(session, jobs)
            now = self._now()
            for job in jobs:
                until = now + dt.timedelta(seconds=self.ttl(job))
                result = await _update(
                    session,
                    update(PeriodicJobLease)
                    .where(
                        PeriodicJobLease.name == job.name,
                        or_(
                            PeriodicJobLease.holder == self.holder,
                            PeriodicJobLease.holder.is_(None),
                            PeriodicJobLease.lease_until.is_(None),
                            PeriodicJobLease.lease_until < now,
                        ),
                    )
                    .values(holder=self.holder, lease_until=until)
                    .execution_options(synchronize_session=False),
                )
                self._lead(job.name, until if result.rowcount == 1 else None)
        return self.leading()

    async def claim_run(self, job: PeriodicJob) -> tuple[bool, float]:
        """Claim this tick of a job: (True, 0) to run it now, else (False, seconds to wait)."""
        async with self.sessionmaker() as session, session.begin():
            now = self._now()
            result = await _update(
                session,
                update(PeriodicJobLease)
                .where(
                    PeriodicJobLease.name == job.name,
                    PeriodicJobLease.holder == self.holder,
                    PeriodicJobLease.lease_until > now,
                    or_(
                        PeriodicJobLease.last_run_at.is_(None),
                        PeriodicJobLease.last_run_at <= now - dt.timedelta(seconds=job.interval),
                    ),
                )
                .values(last_run_at=now, last_run_by=self.holder)
                .execution_options(synchronize_session=False),
            )
            if result.rowcount == 1:
                return True, 0.0
            row = (
                await session.execute(
                    select(PeriodicJobLease.holder, PeriodicJobLease.last_run_at).where(
                        PeriodicJobLease.name == job.name
                    )
                )
            ).one_or_none()
        if row is None or row.holder != self.holder:
            self._lead(job.name, None)  # someone else leads now
            return False, self.ttl(job)
        if row.last_run_at is None:  # our lease ran out between renewal and claim
            return False, self.ttl(job) / 3
        due = row.last_run_at + dt.timedelta(seconds=job.interval)
        return False, max(0.01, (due - now).total_seconds())

    async def resign(self) -> None:
        """Hand every lease back (clean shutdown): another process takes over at once."""
        held = list(self._held)
        for name in held:
            self._lead(name, None)
        if not held:
            return
        async with self.sessionmaker() as session, session.begin():
            await session.execute(
                update(PeriodicJobLease)
                .where(PeriodicJobLease.name.in_(held), PeriodicJobLease.holder == self.holder)
                .values(holder=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )
        log.info("periodic job leases handed back: %s", ", ".join(sorted(held)))


def is_leader(app: FastAPI, job: str) -> bool:
    """Whether this process leads the periodic job ``job`` now (for metrics, health pages)."""
    election: LeaderElection | None = getattr(app.state, "leader_election", None)
    return election is not None and election.is_leader(job)
