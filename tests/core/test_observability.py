"""/metrics, /ready, request ids and JSON log lines, and production refusing SQLite by default."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import tempfile
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr, ValidationError

from app.core import metrics, migrate
from app.core.config import Settings
from app.core.logging import JsonFormatter, configure_logging, request_id
from app.main import create_app
from app.outbox import service as outbox_service
from app.outbox.errors import PermanentError, TransientError
from app.outbox.registry import register
from app.outbox.worker import OutboxWorker
from app.rounds import service as rounds_service
from app.rounds.models import RunTrigger


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


async def _scrape(client: httpx.AsyncClient, **kwargs) -> dict[tuple[str, tuple], float]:
    response = await client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return _samples(response.text)


async def test_metrics_expose_latency_queue_failures_solver_and_leader(app, client, clock):
    before = await _scrape(client)
    retry_key = ("premier_recours_outbox_failures_total", (("kind", "sms"), ("outcome", "retry")))
    failed_key = ("premier_recours_outbox_failures_total", (("kind", "sms"), ("outcome", "failed")))
    runs_key = (
        "premier_recours_solver_runs_total",
        (("status", "succeeded"), ("trigger", "optimise")),
    )

    assert (await client.get("/api/patients/4242")).status_code == 401
    # Two SMS due, the oldest for five minutes; no booking needed to queue them.
    async with app.state.sessionmaker() as session, session.begin():
        for minutes, key in ((5, "a"), (1, "b")):
            await outbox_service.enqueue(
                session=session,
                topic="sms",
                key=f"metrics-test:{key}",
                payload={"to": "+33600000000", "body": "test"},
                now=clock() - dt.timedelta(minutes=minutes),
            )
    queued = await _scrape(client)
    assert queued[("premier_recours_outbox_depth", (("kind", "sms"),))] == 2
    assert queued[("premier_recours_outbox_oldest_age_seconds", (("kind", "sms"),))] == 300
    assert queued[("premier_recours_outbox_depth", (("kind", "sas_appointment"),))] == 0

    # The SMS gateway fails: once for a while, once for good.
    failures = [TransientError("passerelle indisponible"), PermanentError("numéro refusé")]

    async def gateway(message, _app):
        raise failures.pop(0)

    register(app, "sms", gateway)
    assert await OutboxWorker(app, concurrency=1).run_once() == 2

    today = clock().date()
    async with app.state.sessionmaker() as session, session.begin():
        run = await rounds_service.run_day(
            session=session,
            date=today,
            planner=app.state.rounds_planner,
            now=clock(),
            trigger=RunTrigger.optimise,
            time_limit_s=0.5,
        )
    assert run is not None and run.status == "succeeded"
    metrics.set_leader("rounds_before_session", True)
    metrics.set_leader("reminders", False)

    after = await _scrape(client)
    route = (
        "premier_recours_http_request_duration_seconds_count",
        (("method", "GET"), ("route", "/api/patients/{patient_id}"), ("status", "401")),
    )
    assert after[route] >= 1
    assert not any("4242" in str(labels) for _, labels in after)  # templates, never raw paths
    assert after[retry_key] - before.get(retry_key, 0) == 1
    assert after[failed_key] - before.get(failed_key, 0) == 1
    assert after[("premier_recours_outbox_failed", (("kind", "sms"),))] == 1
    assert after[("premier_recours_outbox_depth", (("kind", "sms"),))] == 0  # retry is later
    assert after[runs_key] - before.get(runs_key, 0) == 1
    assert after[("premier_recours_solver_run_duration_seconds_count", (("trigger", "optimise"),))]
    assert after[("premier_recours_leader", (("job", "rounds_before_session"),))] == 1
    assert after[("premier_recours_leader", (("job", "reminders"),))] == 0


def _app_with(settings: Settings, *, client_host: str = "127.0.0.1") -> httpx.AsyncClient:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=(client_host, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_metrics_access_in_production(settings: Settings):
    production = settings.model_copy(update={"environment": "production"})
    async with _app_with(production) as local:
        assert (await local.get("/metrics")).status_code == 200
    async with _app_with(production, client_host="10.1.2.3") as remote:
        refused = await remote.get("/metrics")
        assert refused.status_code == 403
        assert "METRICS_TOKEN" in refused.text
    tokened = production.model_copy(update={"metrics_token": SecretStr("jeton-de-test-metrics")})
    async with _app_with(tokened, client_host="10.1.2.3") as remote:
        assert (await remote.get("/metrics")).status_code == 401
        wrong = {"Authorization": "Bearer autre"}
        assert (await remote.get("/metrics", headers=wrong)).status_code == 401
        good = {"Authorization": "Bearer jeton-de-test-metrics"}
        assert (await remote.get("/metrics", headers=good)).status_code == 200


async def test_ready_on_a_migrated_database(client):
    response = await client.get("/ready")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert (await client.get("/health")).json() == {"status": "ok"}


async def test_ready_refuses_a_database_behind_the_code(settings: Settings):
    # A database of its own, stamped at the first revision: the shared one stays at head.
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='premier-recours-ready-')) / 'old.db'}"
    first = next(
        rev
        for rev in ScriptDirectory.from_config(migrate.alembic_config(url)).walk_revisions()
        if rev.down_revision is None
    )
    migrate.upgrade(url, first.revision)
    async with _app_with(settings.model_copy(update={"database_url": url})) as behind:
        response = await behind.get("/ready")
        assert response.status_code == 503
        assert "premier-recours migrate" in response.json()["message"]
        assert response.json()["database"] == [first.revision]
        assert (await behind.get("/health")).status_code == 200  # alive, just not ready
    empty = f"sqlite:///{Path(tempfile.mkdtemp(prefix='premier-recours-ready-')) / 'empty.db'}"
    async with _app_with(settings.model_copy(update={"database_url": empty})) as blank:
        response = await blank.get("/ready")
        assert response.status_code == 503 and response.json()["status"] == "indisponible"


async def test_request_id_header_and_json_log_lines(app, client):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("premier_recours.test_observability")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False

    @app.get("/_test/log")
    async def log_something() -> dict[str, str]:
        logger.info("demande traitée", extra={"patient_name": "DUPONT Jeanne"})
        return {"ok": "oui"}

    try:
        kept = await client.get("/_test/log", headers={"X-Request-ID": "lb-7f3a9c21"})
        forged = await client.get("/_test/log", headers={"X-Request-ID": 'x"\n{"level":"x"}'})
        fresh = await client.get("/_test/log")
    finally:
        logger.removeHandler(handler)
    assert kept.headers["x-request-id"] == "lb-7f3a9c21"
    assert forged.headers["x-request-id"] != 'x"\n{"level":"x"}'
    assert len(forged.headers["x-request-id"]) == 32
    assert fresh.headers["x-request-id"] not in (kept.headers["x-request-id"], "-")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["request_id"] for line in lines] == [
        r.headers["x-request-id"] for r in (kept, forged, fresh)
    ]
    assert {line["message"] for line in lines} == {"demande traitée"}
    assert {"time", "level", "logger"} <= set(lines[0])
    assert "DUPONT" not in stream.getvalue()  # extras never reach the log line
    assert request_id.get() == "-"  # reset after each request


def test_json_format_reaches_existing_handlers_and_text_leaves_them():
    root = logging.getLogger()
    handler = logging.StreamHandler(io.StringIO())
    root.addHandler(handler)
    try:
        configure_logging("text")
        assert not isinstance(handler.formatter, JsonFormatter)
        configure_logging("json")
        assert isinstance(handler.formatter, JsonFormatter)
        record = logging.getLogRecordFactory()("x", logging.INFO, __file__, 1, "m", (), None)
        assert record.request_id == "-"
        access = logging.getLogger("uvicorn.access").filters
        assert any(type(f).__name__ == "RedactQueryFilter" for f in access)
    finally:
        root.removeHandler(handler)


def test_production_requires_a_database_url(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ValidationError, match="DATABASE_URL doit être défini en production"):
        Settings(environment="production", secret_key="une-cle-de-production-de-test")
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@db:5432/premier_recours")
    chosen = Settings(environment="production", secret_key="une-cle-de-production-de-test")
    assert chosen.database_url.startswith("postgresql://")
    monkeypatch.delenv("DATABASE_URL")
    assert Settings().database_url.startswith("sqlite")  # development keeps its default


def test_cli_refuses_to_start_with_a_clear_message(monkeypatch, capsys):
    from app.cli import main

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", "une-cle-de-production-de-test")
    assert main(["migrate"]) == 2
    assert "DATABASE_URL doit être défini en production" in capsys.readouterr().err
