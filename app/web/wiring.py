"""Pages: session cookie middleware, static files, HTML error pages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from app.accounts.sessions import ServerSessionMiddleware
from app.core.config import Settings
from app.core.errors import DomainError
from app.core.handlers import hand_on
from app.ui.session import LoginRequired
from app.ui.templating import templates


def wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/fhir", "/telephony/")):
        return False
    return "text/html" in request.headers.get("accept", "") or request.method == "GET"


def setup(app: FastAPI, settings: Settings) -> None:
    # Server-side sessions (app/accounts/sessions.py): the cookie is a random id only.
    app.add_middleware(
        ServerSessionMiddleware,
        cookie_name="premier_recours_session",
        idle=dt.timedelta(minutes=settings.session_idle_minutes),
        absolute=dt.timedelta(hours=settings.session_absolute_hours),
        https_only=settings.environment == "production",
    )
    app.mount(
        "/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static"
    )
    json_handler = app.exception_handlers.get(DomainError)

    async def _domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        if isinstance(exc, LoginRequired):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        if wants_html(request):
            return templates.TemplateResponse(
                request,
                "web/error.html",
                {"status": exc.status_code, "message": exc.message},
                status_code=exc.status_code,
            )
        if json_handler is not None:
            return await hand_on(json_handler, request, exc)
        return JSONResponse(exc.to_dict(), status_code=exc.status_code)

    app.add_exception_handler(DomainError, _domain_error)
