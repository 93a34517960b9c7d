"""Swagger UI and ReDoc served by the app itself: the API docs work without internet.

FastAPI's own ``/docs`` and ``/redoc`` load their scripts from a CDN (blank on a CPTS
network without outside access). The assets come from the ``fastapi-offline`` package
(MIT; it ships the swagger-ui-dist bundle, Apache-2.0, and ReDoc's standalone bundle, MIT),
mounted under :data:`ASSETS_URL`; the pages are FastAPI's own HTML pointed at them.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from app.accounts.dependencies import STAFF
from app.ui.session import require_page_roles

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
ASSETS_URL = "/docs/assets"


OPENAPI_URL = "/openapi.json"


def install_docs(app: FastAPI, *, staff_only: bool = False) -> None:
    """Add ``/docs``, its OAuth2 redirect and ``/redoc`` (create the app with both set to None).

    ``staff_only`` (production): the docs and ``/openapi.json`` need a logged-in staff
    session, so the API's map is not public (issue 20, finding 6); create the app with
    ``openapi_url=None`` then, and this serves the schema behind the same check.
    """
    assets = files("fastapi_offline") / "static"
    app.mount(ASSETS_URL, StaticFiles(directory=str(assets)), name="docs-assets")
    openapi_url = app.openapi_url or OPENAPI_URL
    redirect_url = app.swagger_ui_oauth2_redirect_url or f"{DOCS_URL}/oauth2-redirect"
    guard = [require_page_roles(*STAFF)] if staff_only else []

    if staff_only:

        @app.get(OPENAPI_URL, include_in_schema=False, dependencies=guard)
        async def openapi_schema() -> JSONResponse:
            return JSONResponse(app.openapi())

    @app.get(DOCS_URL, include_in_schema=False, dependencies=guard)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} – Swagger UI",
            oauth2_redirect_url=f"{root}{redirect_url}",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            # No badge fetched from validator.swagger.io: nothing leaves the network.
            swagger_ui_parameters={**(app.swagger_ui_parameters or {}), "validatorUrl": None},
        )

    @app.get(redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False, dependencies=guard)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} – ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
