"""Every API route says who may call it, derived from the dependency that enforces it."""

from __future__ import annotations

import re

from app.accounts.dependencies import PUBLIC, ROLE_LABELS, api_routes
from app.accounts.models import Role
from tests.factories import make_user, token


def test_every_api_route_documents_its_roles(app):
    schema = app.openapi()
    routes = api_routes(app)
    assert len(routes) >= 60
    for path, methods, access in routes:
        for method in methods:
            operation = schema["paths"][path][method.lower()]
            text = " ".join(filter(None, [operation.get("summary"), operation.get("description")]))
            if access.roles is None:
                assert PUBLIC in text, (method, path)
                continue
            for role in access.roles:
                assert ROLE_LABELS[role] in text, (method, path, role)
            for note in access.notes:
                assert note in text, (method, path)


def test_only_the_token_route_is_public(app):
    public = [(path, methods) for path, methods, access in api_routes(app) if access.roles is None]
    assert public == [("/api/auth/token", {"POST"})]


async def test_a_role_the_documentation_leaves_out_gets_403(app, client, db, world):
    """The documented roles are the enforced ones: every other role is refused, every route."""
    await make_user(db, "admin", Role.admin)
    headers = {
        Role.secretary: world.secretary,
        Role.coordinator: world.coordinator,
        Role.regulator: world.regulator,
        Role.practitioner: world.gp,
        Role.admin: await token(client, "admin"),
    }
    checked = 0
    for path, methods, access in api_routes(app):
        if access.roles is None:
            continue
        url = re.sub(r"\{date\}", str(world.today), path)
        url = re.sub(r"\{\w+\}", "1", url)
        for method in methods:
            for role in set(Role) - access.roles:
                response = await client.request(method, url, headers=headers[role], json={})
                assert response.status_code == 403, (method, path, role, response.text)
                checked += 1
    assert checked >= 100
