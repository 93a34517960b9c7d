"""Server-side sessions (issue 20, finding 4): the cookie is a random id, logout and the
coordinator end it, idle expiry; bearer tokens are revocable."""

from __future__ import annotations

import base64
import datetime as dt

import httpx
from sqlalchemy import func, select

from app.accounts.models import AuthSession
from app.audit.models import AuditEvent
from app.core.config import Settings
from tests.factories import PASSWORD
from tests.web.conftest import login_as

COOKIE = "premier_recours_session"


def _other_client(app, cookie: str) -> httpx.AsyncClient:
    """A second browser holding a copy of the cookie."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://test",
        cookies={COOKIE: cookie},
    )


async def test_a_cookie_copied_before_logout_no_longer_works_after(app, client, world):
    csrf = await login_as(client, "secretaire")
    stolen = client.cookies[COOKIE]
    async with _other_client(app, stolen) as thief:
        assert (await thief.get("/api/me")).status_code == 200
        response = await client.post("/logout", data={"csrf_token": csrf})
        assert response.status_code == 303
        assert (await thief.get("/api/me")).status_code == 401
        page = await thief.get("/", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")


async def test_the_cookie_reveals_nothing_and_changes_at_login(client, world):
    anonymous = (await client.get("/login"), client.cookies[COOKIE])[1]
    await login_as(client, "secretaire")
    cookie = client.cookies[COOKIE]
    assert cookie != anonymous  # a fresh id at login: no session fixation
    padded = cookie + "=" * (-len(cookie) % 4)
    decoded = base64.urlsafe_b64decode(padded)
    for word in (b"uid", b"role", b"secretary", b"csrf", b"secretaire"):
        assert word not in decoded and word.decode() not in cookie
    assert len(cookie) >= 40


async def test_idle_expiry(client, world, clock, app):
    await login_as(client, "secretaire")
    assert (await client.get("/api/me")).status_code == 200
    minutes = app.state.settings.session_idle_minutes
    clock.advance(dt.timedelta(minutes=minutes - 1))
    assert (await client.get("/api/me")).status_code == 200  # activity keeps it open
    clock.advance(dt.timedelta(minutes=minutes - 1))
    assert (await client.get("/api/me")).status_code == 200
    clock.advance(dt.timedelta(minutes=minutes + 1))
    assert (await client.get("/api/me")).status_code == 401


async def test_absolute_expiry(client, world, clock, app):
    await login_as(client, "secretaire")
    step = dt.timedelta(minutes=app.state.settings.session_idle_minutes - 1)
    end = clock() + dt.timedelta(hours=app.state.settings.session_absolute_hours)
    while clock() + step < end:
        clock.advance(step)
        assert (await client.get("/api/me")).status_code == 200
    clock.advance(step)
    assert (await client.get("/api/me")).status_code == 401


async def test_coordinator_ends_every_session_and_token_of_an_account(client, world, db, app):
    await login_as(client, "secretaire")
    assert (await client.get("/api/me")).status_code == 200
    me = (await client.get("/api/me", headers=world.secretary)).json()
    response = await client.post(
        f"/api/accounts/{me['id']}/revoke-sessions", headers=world.secretary
    )
    assert response.status_code == 403  # not the secretary's to do
    response = await client.post(
        f"/api/accounts/{me['id']}/revoke-sessions", headers=world.coordinator
    )
    assert response.status_code == 200, response.text
    assert response.json()["sessions_ended"] >= 2  # the cookie and the bearer token
    assert (await client.get("/api/me")).status_code == 401
    assert (await client.get("/api/me", headers=world.secretary)).status_code == 401
    assert (await client.get("/api/me", headers=world.coordinator)).status_code == 200
    events = await db.scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "revoke_sessions", AuditEvent.entity_id == me["id"]
        )
    )
    assert events == 1
    response = await client.post("/api/accounts/99999/revoke-sessions", headers=world.coordinator)
    assert response.status_code == 404


async def test_bearer_token_logout_and_password_change(app, client, world, db):
    response = await client.post("/api/auth/logout", headers=world.gp)
    assert response.status_code == 204
    assert (await client.get("/api/me", headers=world.gp)).status_code == 401
    # The other doctor changes their password: their tokens end, the new password works.
    response = await client.post(
        "/api/me/password",
        json={"current_password": "faux", "new_password": "un nouveau mot de passe"},
        headers=world.other_gp,
    )
    assert response.status_code == 422
    response = await client.post(
        "/api/me/password",
        json={"current_password": PASSWORD, "new_password": "un nouveau mot de passe"},
        headers=world.other_gp,
    )
    assert response.status_code == 204, response.text
    assert (await client.get("/api/me", headers=world.other_gp)).status_code == 401
    response = await client.post(
        "/api/auth/token", data={"username": "dr.bernard", "password": "un nouveau mot de passe"}
    )
    assert response.status_code == 200
    assert response.json()["expires_in"] == app.state.settings.token_lifetime_minutes * 60
    assert Settings.model_fields["token_lifetime_minutes"].default == 60  # short-lived
    rows = await db.scalar(select(func.count()).select_from(AuthSession))
    assert rows >= 1


async def test_expired_token_is_refused(client, world, clock, app):
    clock.advance(dt.timedelta(minutes=app.state.settings.token_lifetime_minutes + 1))
    assert (await client.get("/api/me", headers=world.secretary)).status_code == 401
