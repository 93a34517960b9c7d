"""Leader election of the periodic jobs, the in-process worker of `serve`, and its switches."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from app import cli
from app.core.config import Settings
from app.core.db import make_engine, make_sessionmaker
from app.main import create_app
from app.outbox import service as outbox_service
from app.outbox.jobs import PeriodicJob, periodic_jobs, register_periodic
from app.outbox.leader import LeaderElection, is_leader
from app.outbox.models import OutboxMessage, OutboxStatus, PeriodicJobLease
from app.outbox.registry import register
from app.outbox.runner import run_periodic_jobs
from tests.conftest import _empty_tables


class Now:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.value = dt.datetime(2026, 12, 7, 7, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += dt.timedelta(seconds=seconds)


async def _noop(app) -> None:
    return None


@pytest.fixture
async def other_maker(app, database_url: str) -> AsyncIterator:
    """A second engine: another process's connections to the same database."""
    engine = make_engine(database_url, pool_size=2)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def test_one_leader_per_job_and_a_lapsed_lease_is_taken_over(app, other_maker):
    now = Now()
    job = PeriodicJob("test.job", 10.0, _noop)
    first = LeaderElection(app.state.sessionmaker, holder="first", now=now)
    second = LeaderElection(other_maker, holder="second", now=now)
    assert first.ttl(job) == 5.0  # half the interval: a successor within one interval

    assert await first.renew([job]) == ["test.job"]
    assert await second.renew([job]) == []
    assert first.is_leader("test.job") and not second.is_leader("test.job")
    assert await first.claim_run(job) == (True, 0.0)
    now.advance(1)
    assert await first.claim_run(job) == (False, 9.0)  # this tick already ran
    assert (await second.claim_run(job))[0] is False  # not the leader

    now.advance(4)  # `first` renews in time: it keeps the lead
    assert await first.renew([job]) == ["test.job"]
    assert await second.renew([job]) == []
    now.advance(5.5)  # `first` died: its lease ran out
    assert not first.is_leader("test.job")
    assert await second.renew([job]) == ["test.job"]
    assert await first.renew([job]) == []
    # The schedule carries on from the last run (10.5 s ago): due now, once.
    assert await second.claim_run(job) == (True, 0.0)
    assert (await first.claim_run(job))[0] is False

    await second.resign()  # a clean stop hands the lead back at once
    assert await first.renew([job]) == ["test.job"]
    async with app.state.sessionmaker() as session:
        lease = await session.get(PeriodicJobLease, "test.job")
        assert (lease.holder, lease.last_run_by) == ("first", "second")


async def test_a_stale_leader_cannot_run_a_tick_twice(app, other_maker):
    """A process paused past its lease still believes it leads: the claim stops it."""
    now = Now()
    job = PeriodicJob("test.job", 10.0, _noop)
    paused = LeaderElection(app.state.sessionmaker, holder="paused", now=now)
    other = LeaderElection(other_maker, holder="other", now=now)
    await paused.renew([job])
    now.advance(6)
    await other.renew([job])
    assert await other.claim_run(job) == (True, 0.0)
    now.advance(0.001)
    claimed, _ = await paused.claim_run(job)
    assert not claimed and not paused.is_leader("test.job")


async def test_leases_are_short_for_short_jobs_and_capped_by_the_setting(app):
    election = LeaderElection(app.state.sessionmaker, lease_seconds=30)
    assert election.ttl(PeriodicJob("a", 300, _noop)) == 30
    assert election.ttl(PeriodicJob("b", 20, _noop)) == 10
    assert election.ttl(PeriodicJob("c", 0.1, _noop)) == 0.5
    assert election.renew_every([PeriodicJob("b", 20, _noop)]) == pytest.approx(10 / 3)
    assert app.state.leader_election.lease_seconds == 30.0  # LEADER_LEASE_SECONDS


async def test_every_domain_job_is_registered_once(app):
    names = [job.name for job in periodic_jobs(app)]
    assert sorted(names) == [
        "dataprotection.retention",
        "messaging.reminders",
        "orientation.sweep",
        "rounds.optimise_before_session",
        "rounds.replan_after_bookings",
        "waitlist.sweep",
    ]
    with pytest.raises(ValueError):
        register_periodic(app, "messaging.reminders", 60, _noop)


async def test_the_runner_runs_only_the_jobs_it_leads(app, other_maker):
    """While another process leads, nothing runs here; when it resigns, this one takes over."""
    runs: list[float] = []

    async def job(app) -> None:
        runs.append(time.monotonic())

    periodic_jobs(app).clear()
    register_periodic(app, "test.job", 10.0, job)  # leases of 5 s, renewed every 1.7 s
    rival = LeaderElection(other_maker, holder="rival")
    jobs = list(periodic_jobs(app))
    assert await rival.renew(jobs) == ["test.job"]
    stop = asyncio.Event()
    runner = asyncio.create_task(run_periodic_jobs(app, stop))
    for _ in range(10):  # 2 s: the rival renews its lease, nothing runs here
        await asyncio.sleep(0.2)
        await rival.renew(jobs)
    assert runs == [] and not is_leader(app, "test.job")
    await rival.resign()
    resigned = time.monotonic()
    while not runs:
        assert time.monotonic() - resigned < 10, "the runner did not take over"
        await asyncio.sleep(0.05)
    assert is_leader(app, "test.job")
    assert REGISTRY.get_sample_value("premier_recours_leader", {"job": "test.job"}) == 1.0
    stop.set()
    await asyncio.wait_for(runner, timeout=10)
    assert not is_leader(app, "test.job")
    assert REGISTRY.get_sample_value("premier_recours_leader", {"job": "test.job"}) == 0.0
    async with app.state.sessionmaker() as session:
        lease = await session.get(PeriodicJobLease, "test.job")
        assert lease.holder is None  # handed back on the way out
    assert await rival.renew(jobs) == ["test.job"]


async def test_the_in_process_worker_sends_without_a_separate_worker(settings):
    """RUN_WORKER_IN_PROCESS: the lifespan runs the outbox loop (off by default in tests)."""
    app = create_app(settings.model_copy(update={"run_worker_in_process": True}))
    sent: list[str] = []

    async def handler(message, app) -> dict:
        sent.append(message.key)
        return {}

    register(app, "test", handler)
    periodic_jobs(app).clear()
    await _empty_tables(app)
    try:
        async with app.router.lifespan_context(app):
            async with app.state.sessionmaker() as session, session.begin():
                await outbox_service.enqueue(
                    session=session,
                    topic="test",
                    key="m1",
                    payload={},
                    now=dt.datetime.now(dt.UTC),
                )
            queued = time.monotonic()
            while not sent:
                assert time.monotonic() - queued < 2, "not sent within 2 s"
                await asyncio.sleep(0.05)
        async with app.state.sessionmaker() as session:
            message = await session.scalar(select(OutboxMessage))
            assert message.status == OutboxStatus.sent
    finally:
        await _empty_tables(app)
        await app.state.engine.dispose()
    assert sent == ["m1"]


async def test_the_test_app_starts_no_worker(app, clock):
    """Tests drain the outbox themselves: an app built from Settings runs no loop."""
    assert Settings.model_fields["run_worker_in_process"].default is False
    assert app.state.settings.run_worker_in_process is False

    async def handler(message, app) -> dict:
        return {}

    register(app, "test", handler)
    async with app.state.sessionmaker() as session, session.begin():
        await outbox_service.enqueue(
            session=session, topic="test", key="m1", payload={}, now=clock()
        )
    await asyncio.sleep(1.2)
    async with app.state.sessionmaker() as session:
        message = await session.scalar(select(OutboxMessage))
        assert message.status == OutboxStatus.pending


def test_serve_runs_the_worker_unless_told_not_to(monkeypatch):
    monkeypatch.delenv("RUN_WORKER_IN_PROCESS", raising=False)
    parser = cli.build_parser()
    assert cli.serve_settings(parser.parse_args(["serve"])).run_worker_in_process is True
    no_worker = parser.parse_args(["serve", "--no-worker", "--workers", "3"])
    assert no_worker.workers == 3
    assert cli.serve_settings(no_worker).run_worker_in_process is False
    monkeypatch.setenv("RUN_WORKER_IN_PROCESS", "false")
    assert cli.serve_settings(parser.parse_args(["serve"])).run_worker_in_process is False
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--workers", "0"])
