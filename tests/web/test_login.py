"""Cookie login for the pages: CSRF on the form, redirects, revocation."""

from __future__ import annotations

import re

from app.accounts.models import Role
from tests.factories import PASSWORD, make_user


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


async def test_login_sets_a_session_and_logout_ends_it(client, db):
    await make_user(db, "secretaire", Role.secretary, full_name="Secrétariat")
    page = await client.get("/login")
    assert page.status_code == 200 and "Identifiant" in page.text
    token = _csrf(page.text)
    response = await client.post(
        "/login",
        data={
            "username": "secretaire",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/api/me",
        },
    )
    assert response.status_code == 303 and response.headers["location"] == "/api/me"
    me = await client.get("/api/me")
    assert me.status_code == 200 and me.json()["username"] == "secretaire"
    # A write through the cookie without the CSRF header is refused.
    response = await client.post("/api/patients", json={})
    assert response.status_code == 403
    # The token rotates at login: the pre-login one no longer works.
    assert (await client.post("/logout", data={"csrf_token": token})).status_code == 403
    fresh = _csrf((await client.get("/login")).text)
    assert fresh != token
    response = await client.post("/logout", data={"csrf_token": fresh})
    assert response.status_code == 303
    assert (await client.get("/api/me")).status_code == 401


async def test_login_refuses_bad_password_and_missing_csrf(client, db):
    await make_user(db, "secretaire", Role.secretary)
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={"username": "secretaire", "password": "faux", "csrf_token": _csrf(page.text)},
    )
    assert response.status_code == 401
    assert "Identifiant ou mot de passe incorrect" in response.text
    assert 'value="secretaire"' in response.text  # what was typed is kept
    response = await client.post("/login", data={"username": "secretaire", "password": PASSWORD})
    assert response.status_code == 403
    assert (await client.get("/api/me")).status_code == 401


async def test_next_is_kept_local(client, db):
    await make_user(db, "secretaire", Role.secretary)
    page = await client.get("/login?next=//evil.example/x")
    response = await client.post(
        "/login",
        data={
            "username": "secretaire",
            "password": PASSWORD,
            "csrf_token": _csrf(page.text),
            "next": "https://evil.example/",
        },
    )
    assert response.headers["location"] == "/"
