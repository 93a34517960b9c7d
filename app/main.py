"""The app factory: engines, clock, tariffs and providers live on `app.state`."""

from __future__ import annotations

import gc
import importlib
import importlib.util
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, StatementError

from app.accounts.dependencies import document_errors, document_roles
from app.appointments import video
from app.appointments.billing import TariffTable
from app.appointments.effects import Effects
from app.core.calendar import CareCalendar, PdsaCalendar
from app.core.clock import Clock, system_clock
from app.core.config import Settings
from app.core.db import (
    SessionDep,
    make_engine,
    make_sessionmaker,
    unreachable,
    unreachable_errors,
)
from app.core.errors import DomainError, ServiceUnavailable
from app.core.handlers import hand_on, install_json_handlers, install_refusal_handlers
from app.core.observability import install as install_observability
from app.core.protection import install as install_protection
from app.core.security import TokenSigner, configure_hashing
from app.web.docs import install_docs

# Each domain package contributes `router.py` (its routes) and, when it needs state on
# the app (clients, providers, templates), `wiring.py` with `setup(app, settings)`.
DOMAINS = (
    "accounts",
    "practitioners",
    "patients",
    "requests",
    "appointments",
    "agenda",
    "audit",
    "outbox",
    "rounds",
    "sas",
    "messaging",
    "gp",
    "orientation",
    "indicators",
    "waitlist",
    "dataprotection",
    "web",
)


def _wire_domain(app: FastAPI, domain: str, settings: Settings) -> None:
    module = importlib.import_module(f"app.{domain}.router")
    if importlib.util.find_spec(f"app.{domain}.wiring") is not None:
        importlib.import_module(f"app.{domain}.wiring").setup(app, settings)
    app.include_router(module.router)


def care_calendar(settings: Settings) -> CareCalendar:
    """PDSA hours (regional) and the morning round: read by triage and billing alike."""
    return CareCalendar(
        pdsa=PdsaCalendar(
            night_start=settings.pdsa_night_start,
            night_end=settings.pdsa_night_end,
            saturday_from=settings.pdsa_saturday_from,
            holidays_subdivision=settings.pdsa_holidays_subdivision,
        ),
        round_starts=settings.rounds.round_starts,
        round_ends=settings.rounds.round_ends,
    )


def install_unavailable_handlers(app: FastAPI) -> None:
    """The database out of reach → 503 with a French message, in each surface's format
    (JSON, HTML page, FHIR OperationOutcome), instead of a 500. The pool checks each
    connection before use (``pool_pre_ping``): once the server is back, the next request
    works, without restarting the app. A transaction cut midway is rolled back by the
    server, so nothing is half-written (tests/faults/test_database_outage.py)."""
    refusal = app.exception_handlers.get(StatementError)

    async def _unavailable(request: Request, exc: Exception) -> Response:
        if unreachable(exc):
            error = ServiceUnavailable(retry_after_s=5)
            return await hand_on(request.app.exception_handlers[DomainError], request, error)
        if isinstance(exc, StatementError) and refusal is not None:
            return await hand_on(refusal, request, exc)  # a refused value: 409 or 422
        raise exc

    for kind in (*unreachable_errors(), DBAPIError):
        app.add_exception_handler(kind, _unavailable)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    production = settings.environment.strip().lower() == "production"
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for startup in app.state.on_startup:
            await startup(app)
        # Everything built so far lives as long as the process: keep it out of the cyclic
        # collector's full passes, which otherwise stall large FHIR answers (p95 ×3).
        gc.collect()
        gc.freeze()
        background = None
        if settings.run_worker_in_process:
            # After every startup hook: the senders (telephony, SAS) exist by now.
            from app.outbox.runner import InProcessWorker

            background = InProcessWorker(app)
            background.start()
        yield
        if background is not None:
            await background.stop()
        for shutdown in reversed(app.state.on_shutdown):
            await shutdown(app)
        await engine.dispose()

    app = FastAPI(
        title="Premier Recours",
        description=(
            "Plateforme territoriale de premier recours de la CPTS : demandes de soins non "
            "programmés, triage, visites à domicile et téléconsultations."
        ),
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by install_docs from local assets (no CDN)
        redoc_url=None,
        # In production the schema is served by install_docs, to staff only.
        openapi_url=None if production else "/openapi.json",
    )
    app.state.settings = settings
    # Domains append async callables taking the app (clients to open and close).
    app.state.on_startup = []
    app.state.on_shutdown = []
    # Domains register their appointment effects; the order is app/appointments/effects.py's.
    app.state.appointment_listeners = Effects()
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.clock = clock or system_clock
    # The tariff table's defaults follow the NGAP; the PDSA calendar is regional (settings),
    # the coordinator's MCG choice is read from the database at pricing (billing.py).
    app.state.calendar = care_calendar(settings)
    app.state.tariffs = TariffTable(pdsa=app.state.calendar.pdsa)
    app.state.video = video.from_base_url(settings.video_base_url)
    configure_hashing(
        time_cost=settings.argon2_time_cost, memory_cost_kib=settings.argon2_memory_kib
    )
    app.state.token_signer = TokenSigner(
        settings.secret_key, lifetime_seconds=settings.token_lifetime_minutes * 60
    )
    install_json_handlers(app)

    @app.get("/health", tags=["health"])
    async def health(session: SessionDep) -> dict[str, str]:
        await session.execute(text("SELECT 1"))
        return {"status": "ok"}

    for domain in DOMAINS:
        _wire_domain(app, domain, settings)
    install_refusal_handlers(app)
    install_unavailable_handlers(app)
    install_protection(
        app,
        hsts_seconds=settings.hsts_seconds,
        webhook_rate_per_minute=settings.webhook_rate_per_minute,
    )
    install_observability(app, settings)
    install_docs(app, staff_only=production)
    document_roles(app)
    document_errors(app)
    return app


def create_app_from_env() -> FastAPI:
    """The app for `uvicorn --factory` (one per web process): settings from the environment.

    `premier-recours serve` exports its options (DATABASE_URL, DEMO,
    RUN_WORKER_IN_PROCESS) before uvicorn starts its processes. Logging (access-log
    redaction, JSON) is set up by the app itself at startup, in each process.
    """
    return create_app(Settings())
