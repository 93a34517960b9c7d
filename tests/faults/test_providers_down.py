"""The SAS and Twilio hanging, then down, while bookings go on (issue 20, item 7): no
booking waits for them, nothing is lost, and once they are back every push reaches the
SAS once and in order (booking before cancellation), every SMS is sent once.

Related: Twilio down for an hour and each Twilio failure mode, in
tests/messaging/test_reliability.py; the worker killed mid-batch (nothing lost or
doubled, several workers), in tests/outbox/test_scale_out.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import time
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from app.main import create_app
from app.outbox.models import OutboxMessage, OutboxStatus
from app.outbox.worker import OutboxWorker, RetryPolicy
from app.sas import SasSettings
from app.sas.wiring import configure
from tests.conftest import _empty_tables
from tests.messaging.conftest import (  # noqa: F401  (fixtures)
    fake_twilio,
    telephony_overrides,
    telephony_settings,
)
from tests.sas.conftest import fake_sas  # noqa: F401  (fixture)
from tests.sas.test_push import _arrange, _cancel
from tests.sas.world import book_as_regulator, local
from tests.telephony.fake_twilio import Failure

FAST = RetryPolicy(base_seconds=1, cap_seconds=8, lease_seconds=60)
SAS_TIMEOUT = 2.0


@pytest.fixture
def telephony_overrides() -> dict:  # noqa: F811
    return {"twilio_read_timeout": 1.0}


@pytest.fixture
async def app(settings, clock, fake_sas, telephony_settings) -> AsyncIterator:  # noqa: F811
    """The app wired to both fakes (SAS pushes and Twilio SMS), lifespan running."""
    application = create_app(settings, clock=clock)
    configure(
        application,
        SasSettings(
            _env_file=None,
            cpts_name="CPTS Bièvre Val-de-Marne",
            sas_api_token="fhir-inbound-token",
            sas_base_url=fake_sas.base_url,
            sas_push_token="sas-test-token",
            sas_timeout=SAS_TIMEOUT,
            sas_appointment_system="https://premier-recours.test/fhir/sid/appointment",
        ),
    )
    application.state.telephony_settings = telephony_settings
    await _empty_tables(application)
    async with application.router.lifespan_context(application):
        yield application
        await _empty_tables(application)


async def _outbox(app) -> list[OutboxMessage]:
    async with app.state.sessionmaker() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_hanging_then_down_providers_block_no_booking_and_lose_nothing(
    app,
    db,
    clock,
    fake_sas,  # noqa: F811
    fake_twilio,  # noqa: F811
):
    today, gp, user = await _arrange(db, clock)
    # One booking first, its latency not counted (first-use imports and caches).
    booked = [await book_as_regulator(app, user.id, gp.id, local(today, 14, 45))]
    # Both hang: every call waits for its client's time-out (SAS 2 s, Twilio 1 s).
    fake_sas.hang_next(10_000)
    fake_twilio.fail_next(Failure.HANG, times=10_000)
    worker = OutboxWorker(app, policy=FAST)
    stop = asyncio.Event()

    async def work() -> None:
        while not stop.is_set():
            await worker.run_once()
            await asyncio.sleep(0.02)

    running = asyncio.create_task(work())
    latencies: list[float] = []
    try:
        for i in range(8):
            started = time.perf_counter()
            booked.append(
                await book_as_regulator(
                    app, user.id, gp.id, local(today, 15, 0) + dt.timedelta(minutes=15 * i)
                )
            )
            latencies.append(time.perf_counter() - started)
        for appointment_id in booked[1:5]:
            started = time.perf_counter()
            await _cancel(app, appointment_id)
            latencies.append(time.perf_counter() - started)
        # Make sure the worker did meet the hanging providers meanwhile.
        for _ in range(100):
            if fake_sas.requests:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        fake_sas.release()
        fake_twilio.release()
        await running
    p95 = statistics.quantiles(latencies, n=20)[-1]
    print(f"booking/cancel p95 {p95 * 1000:.0f} ms (SAS hanging)", [round(t, 3) for t in latencies])
    assert fake_sas.requests, "the worker never reached the SAS"
    assert p95 < SAS_TIMEOUT / 4 and max(latencies) < SAS_TIMEOUT / 2, latencies

    # Then down (500) for an hour of back-offs; nothing is dropped meanwhile.
    with fake_sas._lock:  # the remaining hangs, replaced by an outage
        fake_sas._script.clear()
    fake_sas.fail_next(10_000)
    fake_twilio.reset()
    fake_twilio.fail_next(Failure.SERVER_ERROR, times=10_000)
    for _ in range(12):
        await worker.run_once()
        clock.advance(dt.timedelta(minutes=5))
    pending = await _outbox(app)
    assert pending and all(m.status != OutboxStatus.sent for m in pending)

    # Back: everything goes, once, in order.
    with fake_sas._lock:
        fake_sas._script.clear()
    fake_twilio.reset()
    for _ in range(20):
        await worker.run_once()
        if all(m.status == OutboxStatus.sent for m in await _outbox(app)):
            break
        clock.advance(dt.timedelta(seconds=FAST.cap_seconds + 1))
    messages = await _outbox(app)
    assert [m.status for m in messages] == [OutboxStatus.sent] * len(messages)
    histories = {
        k: [v["status"] for v in versions] for k, versions in fake_sas.appointments.items()
    }
    assert len(histories) == len(booked)
    assert sorted(histories.values()) == sorted([["booked", "cancelled"]] * 4 + [["booked"]] * 5), (
        histories
    )
    assert set(Counter(fake_twilio.counts_by_idempotency_token()).values()) <= {1}
