"""Page tests: the core `world` (roster and accounts) and a cookie login helper."""

from __future__ import annotations

import re

import httpx

from tests.core.conftest import world  # noqa: F401
from tests.factories import PASSWORD


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


async def login_as(client: httpx.AsyncClient, username: str) -> str:
    """Log the client in through the form; returns the session's CSRF token."""
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    assert response.status_code == 303, response.text
    return csrf_of((await client.get("/login")).text)
