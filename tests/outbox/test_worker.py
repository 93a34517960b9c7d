"""The outbox keeps every message until it leaves, in order, once."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select

from app.outbox import service as outbox_service
from app.outbox.errors import PermanentError, TransientError
from app.outbox.models import OutboxMessage
from app.outbox.registry import register
from app.outbox.worker import OutboxWorker, RetryPolicy


class Recorder:
    """A handler that records what it sends and fails on demand."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.failures: list[Exception] = []

    async def __call__(self, message: OutboxMessage, app) -> dict:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message.key)
        return {"remote_id": f"R{len(self.sent)}"}


async def _enqueue(app, clock, *items):
    async with app.state.sessionmaker() as session, session.begin():
        for key, ordering in items:
            await outbox_service.enqueue(
                session=session,
                topic="test",
                key=key,
                payload={"k": key},
                ordering_key=ordering,
                now=clock(),
            )


async def _statuses(db):
    rows = (
        await db.execute(
            select(OutboxMessage.key, OutboxMessage.status, OutboxMessage.attempts).order_by(
                OutboxMessage.id
            )
        )
    ).all()
    await db.rollback()
    return [(k, str(s), a) for k, s, a in rows]


async def test_messages_leave_once_and_in_order(app, clock, db):
    recorder = Recorder()
    register(app, "test", recorder)
    await _enqueue(
        app, clock, ("a1", "appointment:1"), ("b1", "appointment:2"), ("a2", "appointment:1")
    )
    await _enqueue(app, clock, ("a1", "appointment:1"))  # same event again: same message
    worker = OutboxWorker(app)
    assert await worker.drain() == 3
    assert recorder.sent.index("a1") < recorder.sent.index("a2")
    assert sorted(recorder.sent) == ["a1", "a2", "b1"]
    assert await worker.run_once() == 0
    assert [s for _, s, _ in await _statuses(db)] == ["sent"] * 3


async def test_transient_failures_back_off_then_send_in_order(app, clock, db):
    recorder = Recorder()
    recorder.failures = [TransientError("SAS 500")] * 3
    register(app, "test", recorder)
    await _enqueue(app, clock, ("a1", "appointment:1"), ("a2", "appointment:1"))
    worker = OutboxWorker(app, policy=RetryPolicy(base_seconds=10, cap_seconds=60))
    delays = []
    for _ in range(3):
        assert await worker.run_once() == 1  # a2 waits behind a1
        message = await db.scalar(select(OutboxMessage).where(OutboxMessage.key == "a1"))
        delays.append(message.next_attempt_at - clock())
        assert message.last_error == "SAS 500"
        await db.rollback()
        assert await worker.run_once() == 0  # not due yet
        clock.advance(dt.timedelta(seconds=61))
    assert delays == [dt.timedelta(seconds=10), dt.timedelta(seconds=20), dt.timedelta(seconds=40)]
    assert await worker.drain() == 2
    assert recorder.sent == ["a1", "a2"]
    assert await _statuses(db) == [("a1", "sent", 4), ("a2", "sent", 1)]


async def test_permanent_failure_is_kept_visible_and_retry_now_works(app, clock, db, client):
    recorder = Recorder()
    recorder.failures = [PermanentError("numéro invalide")]
    register(app, "test", recorder)
    await _enqueue(app, clock, ("m1", None))
    worker = OutboxWorker(app)
    await worker.drain()
    assert await _statuses(db) == [("m1", "failed", 1)]
    message = await db.scalar(select(OutboxMessage))
    assert message.last_error == "numéro invalide"
    message_id = message.id
    await db.rollback()
    async with app.state.sessionmaker() as session, session.begin():
        await outbox_service.retry_now(session=session, message_id=message_id, now=clock())
    await worker.drain()
    assert recorder.sent == ["m1"]


async def test_killed_worker_loses_nothing(app, clock, db):
    """A worker that claimed messages and died: its lease runs out and another sends them."""
    recorder = Recorder()
    register(app, "test", recorder)
    await _enqueue(app, clock, *((f"m{i}", f"appointment:{i % 3}") for i in range(6)))
    dead = OutboxWorker(app, name="dead", policy=RetryPolicy(lease_seconds=60))
    claimed = await dead.claim(limit=10)
    assert len(claimed) == 3  # one per appointment: the others wait behind them
    survivor = OutboxWorker(app, name="survivor")
    assert await survivor.run_once() == 0  # leased to the dead worker
    clock.advance(dt.timedelta(seconds=61))
    assert await survivor.drain() == 6
    assert sorted(recorder.sent) == sorted(f"m{i}" for i in range(6))
    assert len(recorder.sent) == len(set(recorder.sent))
    for i in range(3):
        order = [k for k in recorder.sent if int(k[1:]) % 3 == i]
        assert order == sorted(order, key=lambda k: int(k[1:]))


async def test_handler_crash_keeps_the_message(app, clock, db):
    recorder = Recorder()
    recorder.failures = [RuntimeError("bug")]
    register(app, "test", recorder)
    await _enqueue(app, clock, ("m1", None))
    worker = OutboxWorker(app)
    await worker.run_once()
    assert await _statuses(db) == [("m1", "pending", 1)]
    clock.advance(dt.timedelta(minutes=1))
    await worker.drain()
    assert recorder.sent == ["m1"]


async def test_concurrent_workers_never_send_twice(app, clock, db, is_postgres):
    recorder = Recorder()
    register(app, "test", recorder)
    await _enqueue(app, clock, *((f"m{i}", None) for i in range(60)))
    workers = [OutboxWorker(app, name=f"w{i}") for i in range(4)]
    await asyncio.gather(*(w.drain() for w in workers))
    assert sorted(recorder.sent) == sorted(f"m{i}" for i in range(60))
    assert len(recorder.sent) == 60


async def test_coordinator_sees_problems_and_retries(app, clock, db, client):
    from app.accounts.models import Role
    from tests.factories import make_user, token

    recorder = Recorder()
    recorder.failures = [PermanentError("refusé par le SAS")]
    register(app, "test", recorder)
    await _enqueue(app, clock, ("m1", None))
    await OutboxWorker(app).drain()
    await make_user(db, "coordination", Role.coordinator)
    await make_user(db, "secretaire", Role.secretary)
    headers = await token(client, "coordination")
    response = await client.get("/api/outbox/problems", headers=headers)
    assert response.status_code == 200
    assert [(m["key"], m["status"], m["last_error"]) for m in response.json()] == [
        ("m1", "failed", "refusé par le SAS")
    ]
    assert (
        await client.get("/api/outbox/problems", headers=await token(client, "secretaire"))
    ).status_code == 403
    message_id = response.json()[0]["id"]
    response = await client.post(f"/api/outbox/{message_id}/retry", headers=headers)
    assert response.status_code == 200 and response.json()["status"] == "pending"
    await OutboxWorker(app).drain()
    assert recorder.sent == ["m1"]
    response = await client.post(f"/api/outbox/{message_id}/retry", headers=headers)
    assert response.status_code == 409


@pytest.mark.parametrize("attempts", [1, 5, 20])
def test_backoff_is_capped(attempts):
    policy = RetryPolicy(base_seconds=5, cap_seconds=900)
    assert policy.delay(attempts) <= dt.timedelta(seconds=900)
    assert policy.delay(attempts, retry_after=3000) == dt.timedelta(seconds=900)
