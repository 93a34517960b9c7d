"""Security headers on pages and API answers, and the API docs private in production
(issue 20, finding 6)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from app.core.protection import CSP
from app.main import create_app
from tests.web.conftest import login_as

APP = Path(__file__).resolve().parents[2] / "app"


def _assert_protected(response: httpx.Response, *, no_store: bool = True) -> None:
    headers = response.headers
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    if no_store:
        assert headers["cache-control"] == "no-store"


async def test_pages_and_patient_data_carry_the_headers(client, world):
    await login_as(client, "secretaire")
    page = await client.get("/")
    assert page.status_code == 200
    _assert_protected(page)
    assert page.headers["content-security-policy"] == CSP
    assert "'unsafe-inline'" not in page.headers["content-security-policy"]
    api = await client.get(
        "/api/patients",
        params={"name": "Dupont", "birth_date": "1980-05-17"},
        headers=world.secretary,
    )
    assert api.status_code == 200
    _assert_protected(api)
    assert "strict-transport-security" not in api.headers  # HSTS_SECONDS=0
    error = await client.get("/api/patients/999999", headers=world.secretary)
    _assert_protected(error)
    static = await client.get("/static/app.css")
    assert static.status_code == 200 and static.headers.get("cache-control") != "no-store"
    _assert_protected(static, no_store=False)


def test_no_template_has_inline_script_or_style():
    """The CSP allows scripts and styles from files only: templates must not inline them."""
    offenders = []
    for template in APP.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\son[a-z]+\s*=|\sstyle\s*=", text):
            offenders.append(str(template.relative_to(APP)))
    assert not offenders


@pytest.fixture
def production_settings(settings):
    return settings.model_copy(update={"environment": "production", "hsts_seconds": 31536000})


async def test_production_docs_need_a_staff_session_and_hsts_is_sent(
    production_settings, clock, world
):
    application = create_app(production_settings, clock=clock)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for path in ("/docs", "/redoc", "/openapi.json"):
                response = await client.get(path, follow_redirects=False)
                assert response.status_code == 303, path
                assert response.headers["location"].startswith("/login")
            assert "max-age=31536000" in response.headers["strict-transport-security"]
        # https_only cookies: log in over https as production is served.
        async with httpx.AsyncClient(transport=transport, base_url="https://test") as client:
            await login_as(client, "dr.martin")
            assert (await client.get("/openapi.json")).status_code == 403  # not staff
        async with httpx.AsyncClient(transport=transport, base_url="https://test") as client:
            await login_as(client, "secretaire")
            schema = await client.get("/openapi.json")
            assert schema.status_code == 200 and "/api/patients" in schema.json()["paths"]
            docs = await client.get("/docs")
            assert docs.status_code == 200
            assert "'unsafe-inline'" in docs.headers["content-security-policy"]
    await application.state.engine.dispose()


async def test_development_docs_stay_open(client):
    assert (await client.get("/openapi.json")).status_code == 200
    assert (await client.get("/docs")).status_code == 200
