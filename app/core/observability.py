"""What operators see: request ids, latency by route, /metrics and /ready.

`install(app, settings)` is called last by the app factory, so its middleware is the
outermost one: the request id is set before anything logs, and the latency includes
every other middleware.

/metrics access: with METRICS_TOKEN set, a bearer token is required from anywhere;
without it, /metrics is open in development and limited to loopback clients
(127.0.0.1, ::1) in production. The public nginx server never forwards /metrics.
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from functools import lru_cache

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import metrics
from app.core.config import Settings
from app.core.logging import configure_logging, request_id
from app.core.migrate import alembic_config

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id is kept only when it is short and plain (no spaces, quotes or newlines
# to forge log lines with); anything else is replaced by our own.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path or metrics.ROUTE_UNMATCHED


class ObservabilityMiddleware:
    """Request id in and out (contextvar, header) and the latency of each request."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        supplied = ""
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                supplied = value.decode("latin-1")
                break
        rid = supplied if _SANE_REQUEST_ID.fullmatch(supplied) else uuid.uuid4().hex
        token = request_id.set(rid)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", rid.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            metrics.observe_request(
                scope.get("method", ""),
                _route_template(scope),
                status,
                time.perf_counter() - started,
            )
            request_id.reset(token)


@lru_cache(maxsize=4)
def migration_heads(database_url: str) -> frozenset[str]:
    """The revisions the code expects (read once: the scripts ship with the code)."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())


def _metrics_refusal(request: Request, settings: Settings) -> Response | None:
    """A plain-text refusal (Prometheus shows it as is), or None when the scrape may go on."""
    token = settings.metrics_token.get_secret_value()
    if token:
        scheme, _, supplied = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(
            supplied.strip().encode(), token.encode()
        ):
            return PlainTextResponse(
                "Jeton des métriques (METRICS_TOKEN) absent ou invalide.\n",
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return None
    host = request.client.host if request.client else ""
    if settings.environment == "production" and host not in _LOOPBACK:
        return PlainTextResponse(
            "Métriques réservées à la machine locale : définissez METRICS_TOKEN "
            "pour les lire depuis le réseau.\n",
            status_code=403,
        )
    return None


def install(app: FastAPI, settings: Settings) -> None:
    """Logging format, the outermost middleware, /metrics and /ready."""
    configure_logging(settings.log_format)

    async def _configure_logging_again(_app: FastAPI) -> None:
        configure_logging(settings.log_format)  # uvicorn has replaced its handlers by now

    app.state.on_startup.append(_configure_logging_again)
    app.add_middleware(ObservabilityMiddleware)

    @app.get("/metrics", tags=["health"], include_in_schema=False)
    async def metrics_endpoint(request: Request) -> Response:
        refusal = _metrics_refusal(request, settings)
        if refusal is not None:
            return refusal
        # The outbox registers how to read its queue (app.state.queue_snapshot): core
        # imports no domain.
        snapshot = getattr(request.app.state, "queue_snapshot", None)
        body, content_type = metrics.exposition(
            await snapshot(request.app) if snapshot is not None else None
        )
        return Response(body, media_type=content_type)

    @app.get("/ready", tags=["health"])
    async def ready(request: Request) -> JSONResponse:
        """Ready to serve: the database answers and its schema is the code's (Alembic head)."""
        try:
            async with request.app.state.engine.connect() as conn:
                current = frozenset(
                    (await conn.execute(text("SELECT version_num FROM alembic_version")))
                    .scalars()
                    .all()
                )
        except Exception:
            return JSONResponse(
                {"status": "indisponible", "message": "Base de données injoignable ou vide."},
                status_code=503,
            )
        expected = migration_heads(settings.database_url)
        if current != expected:
            return JSONResponse(
                {
                    "status": "indisponible",
                    "message": "Schéma de la base en retard sur le code : lancez "
                    "« premier-recours migrate ».",
                    "database": sorted(current),
                    "expected": sorted(expected),
                },
                status_code=503,
            )
        return JSONResponse({"status": "ok"})
