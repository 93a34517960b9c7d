"""Nothing lost, nothing doubled: Twilio failing, hanging, or the worker dying mid-batch."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select

from app.messaging.models import SmsMessage
from app.outbox.models import OutboxMessage
from app.outbox.worker import OutboxWorker, RetryPolicy
from tests.factories import make_patient
from tests.telephony.fake_twilio import Failure

from .conftest import book, sms_rows, tomorrow_at, worker


async def _book_one(client, world, db, **patient):
    p = await make_patient(db, **patient)
    return await book(
        client,
        world.secretary,
        patient_id=p.id,
        practitioner_id=world.titular.id,
        start=tomorrow_at(world, 14),
    )


async def _outbox(db) -> list[tuple[str, str, int]]:
    rows = (
        await db.execute(
            select(OutboxMessage.key, OutboxMessage.status, OutboxMessage.attempts).order_by(
                OutboxMessage.id
            )
        )
    ).all()
    await db.commit()
    return [(k, str(s), a) for k, s, a in rows]


@pytest.mark.parametrize(
    "failures",
    [
        [Failure.SERVER_ERROR, Failure.SERVER_ERROR],
        [Failure.RATE_LIMITED],
        [Failure.HANG],  # no answer before the read time-out, message not created
        [Failure.HANG_AFTER_ACCEPT],  # created, answer lost: adopted, not sent again
        [Failure.SERVER_ERROR, Failure.HANG_AFTER_ACCEPT, Failure.RATE_LIMITED],
    ],
    ids=["500", "429", "hang", "hang-after-accept", "mixed"],
)
async def test_sent_exactly_once_when_twilio_recovers(
    app, client, world, db, fake_twilio, clock, failures
):
    appointment = await _book_one(client, world, db)
    fake_twilio.fail_next(failures[0])
    for kind in failures[1:]:
        fake_twilio.fail_next(kind)
    send = worker(app, base_seconds=5, cap_seconds=60)
    for _ in range(len(failures) + 3):
        await send.run_once()
        fake_twilio.release()
        clock.advance(dt.timedelta(seconds=61))
    key = f"sms:booked:{appointment['id']}"
    assert fake_twilio.counts_by_idempotency_token() == {key: 1}
    [(_, status, attempts)] = await _outbox(db)
    assert status == "sent" and attempts >= 2
    [row] = await sms_rows(db)
    assert row.sid == fake_twilio.messages[0].sid and row.status == "queued"


async def test_twilio_down_for_an_hour_loses_nothing(app, client, world, db, fake_twilio, clock):
    for i in range(3):
        p = await make_patient(db, given_name=f"P{i}", phone=f"+3363998000{i + 2}")
        await book(
            client,
            world.secretary,
            patient_id=p.id,
            practitioner_id=world.titular.id,
            start=tomorrow_at(world, 14, 15 * i),
        )
    fake_twilio.fail_next(Failure.SERVER_ERROR, times=1000)  # down until reset
    send = worker(app)  # default back-off: 5 s doubling, capped at 15 min
    elapsed = dt.timedelta()
    while elapsed < dt.timedelta(hours=1):
        await send.run_once()
        clock.advance(dt.timedelta(minutes=1))
        elapsed += dt.timedelta(minutes=1)
    assert len(fake_twilio.requests) > 3 and fake_twilio.messages == []
    fake_twilio.reset()  # Twilio is back
    clock.advance(dt.timedelta(minutes=16))
    await send.drain()
    assert sorted(fake_twilio.counts_by_idempotency_token().values()) == [1, 1, 1]
    assert [s for _, s, _ in await _outbox(db)] == ["sent"] * 3


async def test_permanent_error_is_not_retried_and_listed(
    app, client, world, db, fake_twilio, clock
):
    await _book_one(client, world, db)
    fake_twilio.fail_next(Failure.PERMANENT, code=21614)
    send = worker(app)
    await send.drain()
    clock.advance(dt.timedelta(hours=1))
    await send.drain()
    assert len(fake_twilio.requests) == 1 and fake_twilio.messages == []
    assert [s for _, s, _ in await _outbox(db)] == ["failed"]
    failures = (await client.get("/api/sms/failures", headers=world.secretary)).json()
    assert [(f["status"], f["error_code"], f["error"]) for f in failures] == [
        ("failed", 21614, "pas un numéro de mobile")
    ]


async def test_worker_killed_mid_batch_loses_and_doubles_nothing(
    app, client, world, db, fake_twilio, clock
):
    for i in range(6):
        p = await make_patient(db, given_name=f"P{i}", phone=f"+3363998001{i}")
        await book(
            client,
            world.secretary,
            patient_id=p.id,
            practitioner_id=world.titular.id,
            start=tomorrow_at(world, 14, 15 * (i % 4)) + dt.timedelta(days=i // 4),
        )
    # The third send is accepted by Twilio, then the worker dies waiting for the answer.
    # One send at a time, so "the third" is well defined.
    doomed = OutboxWorker(app, policy=RetryPolicy(lease_seconds=60), concurrency=1)
    original = app.state.telephony.send_sms
    calls = {"n": 0}

    async def send_then_die(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            fake_twilio.fail_next(Failure.HANG_AFTER_ACCEPT)
        return await original(*args, **kwargs)

    app.state.telephony.send_sms = send_then_die
    task = asyncio.create_task(doomed.run_once(limit=10))
    assert await asyncio.to_thread(fake_twilio.wait_until_hanging, 1, 5.0)
    task.cancel()  # killed mid-send: two sent and recorded, one accepted but unrecorded
    with pytest.raises(asyncio.CancelledError):
        await task
    fake_twilio.release()
    app.state.telephony.send_sms = original
    assert len(fake_twilio.messages) == 3

    survivor = worker(app)
    assert await survivor.run_once() == 0  # still leased to the dead worker
    clock.advance(dt.timedelta(seconds=61))
    await survivor.drain()
    counts = fake_twilio.counts_by_idempotency_token()
    assert len(counts) == 6 and set(counts.values()) == {1}
    assert [s for _, s, _ in await _outbox(db)] == ["sent"] * 6
    rows = await sms_rows(db)
    assert sorted(r.sid for r in rows) == sorted(m.sid for m in fake_twilio.messages)


async def test_a_late_status_callback_ties_a_lost_answer_to_its_message(
    app, client, world, db, fake_twilio, clock
):
    from .conftest import post_webhook

    appointment = await _book_one(client, world, db)
    fake_twilio.fail_next(Failure.HANG_AFTER_ACCEPT)
    send = worker(app)
    await send.run_once()
    fake_twilio.release()
    [message] = fake_twilio.messages
    response = await post_webhook(client, fake_twilio.status_callback(message.sid, "delivered"))
    assert response.status_code == 204
    clock.advance(dt.timedelta(minutes=1))
    await send.drain()
    assert fake_twilio.counts_by_idempotency_token() == {f"sms:booked:{appointment['id']}": 1}
    row = await db.scalar(select(SmsMessage).execution_options(populate_existing=True))
    assert (row.sid, row.status) == (message.sid, "delivered")
    await db.commit()
