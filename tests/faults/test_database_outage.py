"""PostgreSQL cut off under load (issue 20, item 7): clean 503s with a French message, no
500; the app recovers by itself once the server is back; nothing is half-written.

The app reaches PostgreSQL through a TCP proxy (tests/faults/proxy.py) that the test cuts
(every open connection dropped, new ones refused, as during a restart) and restores.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app.audit.models import AuditEvent
from app.main import create_app
from app.requests.models import CareRequest
from tests.factories import make_patient
from tests.faults.proxy import TcpProxy

WORKERS = 6


@pytest.fixture
def proxy(database_url):
    if not database_url.startswith("postgres"):
        pytest.skip("PostgreSQL only: the proxy stands between the app and its server")
    url = make_url(database_url)
    with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as running:
        yield running


async def test_postgresql_cut_under_load_answers_503_then_recovers(
    proxy, settings, clock, world, db, database_url
):
    patient = await make_patient(db)
    proxied = make_url(database_url).set(host="127.0.0.1", port=proxy.port)
    app = create_app(
        settings.model_copy(update={"database_url": proxied.render_as_string(hide_password=False)}),
        clock=clock,
    )
    results: list[tuple[str, int, float, dict]] = []
    phase = "before"
    stop = asyncio.Event()

    async def load(client: httpx.AsyncClient, n: int) -> None:
        while not stop.is_set():
            started = time.perf_counter()
            if n % 3 == 0:
                response = await client.get("/health")
            else:
                response = await client.post(
                    "/api/requests",
                    json={"patient_id": patient.id, "reason": "Fièvre", "urgency": "within_48h"},
                    headers=world.secretary,
                )
            json_body = response.headers.get("content-type", "").startswith("application/json")
            body = response.json() if json_body else {"html": response.text}
            results.append((phase, response.status_code, time.perf_counter() - started, body))
            await asyncio.sleep(0.01)

    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                tasks = [asyncio.create_task(load(client, n)) for n in range(WORKERS)]
                await asyncio.sleep(1.5)
                phase = "cut"
                proxy.cut()  # as if PostgreSQL restarted: connections dropped, refused
                await asyncio.sleep(2.0)
                phase = "restored"
                proxy.restore()
                await asyncio.sleep(0.5)
                phase = "after"
                await asyncio.sleep(1.5)
                stop.set()
                await asyncio.gather(*tasks)
    finally:
        await app.state.engine.dispose()

    statuses = Counter((p, s) for p, s, _, _ in results)
    print(sorted(statuses.items()))
    assert {s for _, s, _, _ in results} <= {200, 201, 503}, statuses  # never a 500
    assert statuses[("before", 201)] and statuses[("before", 200)]
    assert statuses[("cut", 503)] >= WORKERS, statuses
    unavailable = [b for _, s, _, b in results if s == 503]
    # The API answers in JSON; /health, outside /api, gets the HTML error page.
    api = [b for b in unavailable if "html" not in b]
    assert api and all(b["code"] == "service_unavailable" for b in api)
    assert all("indisponible" in b.get("message", b.get("html", "")) for b in unavailable)
    # A refused connection answers at once: nobody waits for a time-out.
    cut_latencies = [t for p, s, t, _ in results if p == "cut" and s == 503]
    assert statistics.median(cut_latencies) < 0.5, cut_latencies
    # Back without restarting the app: everything succeeds again.
    after = [s for p, s, _, _ in results if p == "after"]
    assert after and set(after) <= {200, 201}, Counter(after)

    # Nothing half-written: each request that exists has its audit entry, and the other
    # way round; every 201 is there (a 503 whose commit had reached the server may be too).
    await db.commit()
    created = (await db.scalars(select(CareRequest.id))).all()
    audited = (
        await db.scalars(
            select(AuditEvent.entity_id).where(
                AuditEvent.entity_type == "request", AuditEvent.action == "create"
            )
        )
    ).all()
    assert sorted(created) == sorted(audited)
    ok = sum(1 for _, s, _, _ in results if s == 201)
    assert ok <= len(created) <= ok + len(unavailable)
    assert await db.scalar(select(func.count()).select_from(CareRequest)) == len(created)


async def test_a_web_page_with_its_session_cookie_answers_503_then_keeps_the_session(
    proxy, settings, clock, world, database_url
):
    """The session middleware reads the database before any route: cut, it answers the
    app's French 503, not a 500; restored, the same cookie opens the same session."""
    from tests.web.conftest import login_as

    proxied = make_url(database_url).set(host="127.0.0.1", port=proxy.port)
    app = create_app(
        settings.model_copy(update={"database_url": proxied.render_as_string(hide_password=False)}),
        clock=clock,
    )
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                await login_as(client, "secretaire")
                assert (await client.get("/")).status_code == 200
                proxy.cut()
                cut = await client.get("/")
                proxy.restore()
                await asyncio.sleep(0.2)
                after = await client.get("/")
    finally:
        await app.state.engine.dispose()
    assert cut.status_code == 503, cut.text[:300]
    assert "indisponible" in cut.text
    assert after.status_code == 200 and "/login" not in str(after.url)
