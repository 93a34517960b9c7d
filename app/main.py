"""The app factory: engines, clock, tariffs and providers live on `app.state`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import text

from app.accounts.router import router as accounts_router
from app.appointments.billing import TariffTable
from app.appointments.router import router as appointments_router
from app.audit.router import router as audit_router
from app.core.clock import Clock, system_clock
from app.core.config import Settings
from app.core.db import SessionDep, make_engine, make_sessionmaker
from app.core.handlers import install_json_handlers
from app.core.security import TokenSigner, configure_hashing
from app.patients.router import router as patients_router
from app.practitioners.router import router as practitioners_router
from app.requests.router import router as requests_router


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app = FastAPI(
        title="Premier Recours",
        description=(
            "Plateforme territoriale de premier recours de la CPTS : demandes de soins non "
            "programmés, triage, visites à domicile et téléconsultations."
        ),
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.clock = clock or system_clock
    app.state.tariffs = TariffTable()
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

    for router in (
        accounts_router,
        practitioners_router,
        patients_router,
        requests_router,
        appointments_router,
        audit_router,
    ):
        app.include_router(router)
    return app
