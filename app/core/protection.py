"""Security headers on every answer and a rate limit on the public webhooks (issue 20,
findings 5 and 6).

- ``Content-Security-Policy``: scripts and styles from the app only (the pages have no
  inline script; /docs and /redoc, staff-only in production, need FastAPI's inline
  bootstrap), no framing (``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``);
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``;
- ``Strict-Transport-Security`` when ``HSTS_SECONDS`` is set (served behind TLS);
- ``Cache-Control: no-store`` on everything but static assets: pages and API answers
  carry patient data, which must stay out of shared and browser caches.

The webhook limiter counts requests per address and minute in the database (table
``shared_limits``): every web process adds to the same count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import limits

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# FastAPI's Swagger UI and ReDoc pages start their bundles with inline code.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
CACHEABLE = ("/static/", "/docs/assets/")


class WebhookLimiter:
    """At most ``per_minute`` requests per address and minute on the given paths, counted
    in the database (app/core/limits.py) so that every web process shares one count."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute

    async def allow(
        self, maker: async_sessionmaker[AsyncSession], address: str, now: dt.datetime
    ) -> bool:
        """``now`` is the app's clock (app.state.clock), the same in every process."""
        minute = now.replace(second=0, microsecond=0)
        try:
            count = await limits.count_in_window(maker, f"webhook:{address[:150]}", minute, now)
        except (DBAPIError, OSError, TimeoutError):
            # The database is down: let the request through, its route answers 503 itself
            # (a limiter that cannot count must not turn every webhook into a 500).
            return True
        return count <= self.per_minute


class ProtectionMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        hsts_seconds: int,
        limiter: WebhookLimiter,
        limited_paths: Callable[[Scope], tuple[str, ...]],
    ) -> None:
        self.app = app
        self.hsts_seconds = hsts_seconds
        self.limiter = limiter
        self.limited_paths = limited_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if path.startswith(self.limited_paths(scope)):
            client = scope.get("client")
            state = scope["app"].state
            address = client[0] if client else "inconnue"
            if not await self.limiter.allow(state.sessionmaker, address, state.clock()):
                await self._too_many(send)
                return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._add_headers(MutableHeaders(scope=message), path)
            await send(message)

        await self.app(scope, receive, send_wrapper)

    def _add_headers(self, headers: MutableHeaders, path: str) -> None:
        docs = path in DOCS_PATHS or (path.startswith("/docs/") and "assets" not in path)
        headers.setdefault("Content-Security-Policy", DOCS_CSP if docs else CSP)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        if self.hsts_seconds:
            headers.setdefault(
                "Strict-Transport-Security", f"max-age={self.hsts_seconds}; includeSubDomains"
            )
        if not path.startswith(CACHEABLE):
            headers["Cache-Control"] = "no-store"
            headers.setdefault("Pragma", "no-cache")

    async def _too_many(self, send: Send) -> None:
        body = "Trop de requêtes : réessayez dans une minute.".encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", b"60"),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def install(app: ASGIApp, *, hsts_seconds: int, webhook_rate_per_minute: int) -> None:
    """Add the middleware; the limited paths are the telephony webhooks and the SMS
    cancellation page (its path is a telephony setting, read from the app's state)."""

    def limited(scope: Scope) -> tuple[str, ...]:
        state = scope["app"].state
        telephony = getattr(state, "telephony_settings", None)
        cancel = getattr(telephony, "cancel_link_path", "") or ""
        paths = ["/telephony/"]
        if cancel.strip("/"):
            paths.append("/" + cancel.strip("/") + "/")
        return tuple(paths)

    app.add_middleware(  # type: ignore[attr-defined]
        ProtectionMiddleware,
        hsts_seconds=hsts_seconds,
        limiter=WebhookLimiter(webhook_rate_per_minute),
        limited_paths=limited,
    )
