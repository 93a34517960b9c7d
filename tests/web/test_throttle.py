"""Login throttling per account and per address, the webhook limit, and Argon2 off the
event loop (issue 20, finding 5)."""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import time

import httpx
import pytest
from sqlalchemy import select

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.main import create_app
from tests.conftest import _empty_tables
from tests.factories import PASSWORD, make_user
from tests.web.conftest import csrf_of


async def _token(client, username: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/token", data={"username": username, "password": password})


async def test_wrong_passwords_are_delayed_then_the_account_locked_and_audited(
    client, world, clock, db, app
):
    settings = app.state.settings
    free, lock_after = settings.login_free_attempts, settings.login_lock_attempts
    for _ in range(free):
        assert (await _token(client, "secretaire", "faux")).status_code == 401
    # Now each attempt waits: 1 s, then 2 s, 4 s… (LOGIN_DELAY_BASE_S doubling).
    refused = await _token(client, "secretaire", PASSWORD)
    assert refused.status_code == 429, refused.text
    assert "réessayez dans" in refused.json()["message"]
    delay = settings.login_delay_base_s
    for _ in range(lock_after - free):
        clock.advance(dt.timedelta(seconds=delay / 2))
        assert (await _token(client, "secretaire", "faux")).status_code == 429
        clock.advance(dt.timedelta(seconds=delay / 2))
        assert (await _token(client, "secretaire", "faux")).status_code == 401
        delay *= 2
    # Locked: even the right password is refused, and the lock is in the audit trail.
    clock.advance(dt.timedelta(minutes=1))
    response = await _token(client, "secretaire", PASSWORD)
    assert response.status_code == 429 and "min" in response.json()["message"]
    events = (await db.scalars(select(AuditEvent).where(AuditEvent.action == "login_locked"))).all()
    assert len(events) == 1 and events[0].detail["username"] == "secretaire"
    assert "account" in events[0].detail["locked"]
    # Other accounts from another address are unaffected; the lock ends by itself.
    assert (await _token(client, "coordination", PASSWORD)).status_code in (200, 429)
    clock.advance(dt.timedelta(minutes=settings.login_lock_minutes))
    assert (await _token(client, "secretaire", PASSWORD)).status_code == 200


async def test_one_address_trying_many_accounts_is_throttled(client, world, app):
    free = app.state.settings.login_free_attempts
    for n in range(free):
        assert (await _token(client, f"inconnu{n}", "faux")).status_code == 401
    assert (await _token(client, "personne", "faux")).status_code == 429


async def test_the_login_page_is_throttled_too(client, world, app):
    free = app.state.settings.login_free_attempts
    page = await client.get("/login")
    csrf = csrf_of(page.text)
    for _ in range(free):
        response = await client.post(
            "/login", data={"username": "secretaire", "password": "faux", "csrf_token": csrf}
        )
        assert response.status_code == 401
    response = await client.post(
        "/login", data={"username": "secretaire", "password": PASSWORD, "csrf_token": csrf}
    )
    assert response.status_code == 429
    assert "Trop de tentatives" in response.text and 'name="password"' in response.text


@pytest.mark.parametrize("path", ["/telephony/sms", "/a/jeton-inconnu"])
async def test_public_webhooks_are_rate_limited_per_address(app, client, path):
    limiter_limit = app.state.settings.webhook_rate_per_minute
    statuses = []
    for _ in range(limiter_limit + 3):
        statuses.append((await client.post(path, data={})).status_code)
    assert 429 not in statuses[:limiter_limit]
    assert statuses[-1] == 429


@pytest.fixture
def settings(settings):
    # A low webhook limit keeps the test short; the rest as conftest's.
    return settings.model_copy(update={"webhook_rate_per_minute": 20})


async def test_health_stays_fast_during_20_concurrent_wrong_logins(settings, clock):
    """Argon2 at production cost runs in worker threads: /health keeps answering."""
    heavy = settings.model_copy(
        update={
            "argon2_time_cost": 3,
            "argon2_memory_kib": 65536,
            "login_free_attempts": 100,
            "login_lock_attempts": 200,
        }
    )
    application = create_app(heavy, clock=clock)
    await _empty_tables(application)
    try:
        async with application.router.lifespan_context(application):
            # A real account, its hash at production cost (the cost is the app's).
            async with application.state.sessionmaker() as session:
                await make_user(session, "victime", Role.secretary)
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                # Warm up: the connection pool filled, the dummy hash computed.
                await asyncio.gather(*(_token(client, "victime", "x") for _ in range(5)))
                await client.get("/health")

                async def waves() -> list[httpx.Response]:
                    return list(
                        await asyncio.gather(
                            *(_token(client, "victime", "mauvais") for _ in range(20))
                        )
                    )

                logins = [asyncio.create_task(waves())]
                latencies = []
                started = time.perf_counter()
                while not all(task.done() for task in logins):
                    t0 = time.perf_counter()
                    assert (await client.get("/health")).status_code == 200
                    latencies.append(time.perf_counter() - t0)
                    await asyncio.sleep(0.01)
                elapsed = time.perf_counter() - started
                (results,) = await asyncio.gather(*logins)
        assert len(results) == 20 and all(r.status_code == 401 for r in results)
        assert len(latencies) >= 5, (latencies, elapsed)
        p95 = statistics.quantiles(latencies, n=20)[-1]
        print(f"/health p95 {p95 * 1000:.0f} ms, {len(latencies)} calls, logins {elapsed:.2f} s")
        assert p95 < 0.2, latencies
    finally:
        await _empty_tables(application)
        await application.state.engine.dispose()


async def test_two_processes_share_one_count(app, client, world, settings, clock, db):
    """Two app instances on one database (two uvicorn processes): one login count and one
    webhook count between them, not one each (app/core/limits.py)."""
    other = create_app(settings, clock=clock)
    try:
        async with other.router.lifespan_context(other):
            transport = httpx.ASGITransport(app=other)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as second:
                free = settings.login_free_attempts
                clients = [client, second]
                for n in range(free):
                    response = await _token(clients[n % 2], "secretaire", "faux")
                    assert response.status_code == 401
                # Each process has seen only half the failures, yet both refuse now.
                for either in clients:
                    refused = await _token(either, "secretaire", PASSWORD)
                    assert refused.status_code == 429, refused.text
                # A good password in one process clears the account for both.
                clock.advance(dt.timedelta(minutes=2))
                assert (await _token(second, "secretaire", PASSWORD)).status_code == 200
                assert (await _token(client, "dr.martin", PASSWORD)).status_code == 200

                limit = settings.webhook_rate_per_minute
                statuses = [
                    (await clients[n % 2].post("/telephony/sms", data={})).status_code
                    for n in range(limit + 2)
                ]
                assert 429 not in statuses[: limit - 1] and statuses[-1] == 429, statuses
    finally:
        await other.state.engine.dispose()


async def test_the_lock_is_audited_once_when_processes_fail_together(app, world, settings, db):
    """Failures racing in many processes: the lock is set, and audited, exactly once."""
    from app.core import limits

    maker = app.state.sessionmaker
    now = app.state.clock()
    batches = await asyncio.gather(
        *(
            limits.add_failures(
                maker,
                ["login:account:course"],
                now,
                forget_before=now - dt.timedelta(hours=1),
                lock_after=5,
                lock_for=dt.timedelta(minutes=15),
            )
            for _ in range(12)
        )
    )
    results = [result for (result,) in batches]
    assert sorted(count for count, _ in results) == list(range(1, 13))
    assert sum(locked for _, locked in results) == 1
