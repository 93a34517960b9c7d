"""Who is calling: bearer token (API) or session cookie (web UI), and what they may do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import OAuth2PasswordBearer

from app.accounts import service as accounts_service
from app.accounts import sessions as auth_sessions
from app.accounts.models import Role, User
from app.core.csrf import check_csrf
from app.core.db import SessionDep
from app.core.errors import Forbidden, Unauthorized

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


async def get_current_user(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    payload: dict[str, Any] | None = None
    if token:
        payload = request.app.state.token_signer.read(token)
    elif request.scope.get("session") is not None and "uid" in request.session:
        # The web UI's cookie: a write must also carry the session's CSRF token.
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            check_csrf(request, request.headers.get("x-csrf-token"))
        payload = {"uid": request.session.get("uid"), "v": request.session.get("v")}
    if not payload:
        raise Unauthorized("Authentification requise : identifiant ou jeton manquant ou expiré.")
    user = await accounts_service.get(session=session, user_id=int(payload.get("uid", 0)))
    demo_refused = user is not None and user.demo_only and not request.app.state.settings.demo
    if user is None or not user.active or demo_refused or user.token_version != payload.get("v"):
        raise Unauthorized("Ce jeton n'est plus valide ; reconnectez-vous.")
    if token:
        # A bearer token is valid while its jti's row exists (logout, password change and
        # the coordinator delete it).
        jti = payload.get("jti")
        if not isinstance(jti, str) or not await auth_sessions.token_is_open(
            session=session, jti=jti, user_id=user.id, now=request.app.state.clock()
        ):
            raise Unauthorized("Ce jeton n'est plus valide ; reconnectez-vous.")
        request.state.token_jti = jti
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_roles(*roles: Role, own: str | None = None) -> Any:
    """A dependency refusing (403) every role not listed.

    ``own`` says, in French, what the service narrows further for some of these roles
    ("médecin : son propre agenda"); it is printed in the route's OpenAPI description.
    """

    async def _check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden("Votre rôle ne permet pas cette action.")
        return user

    _check.roles = frozenset(roles)  # type: ignore[attr-defined]
    _check.own = own  # type: ignore[attr-defined]
    return Depends(_check)


STAFF = (Role.secretary, Role.coordinator, Role.admin)

ROLE_LABELS = {
    Role.secretary: "secrétariat",
    Role.coordinator: "coordination",
    Role.admin: "administration",
    Role.practitioner: "médecin",
    Role.regulator: "régulateur SAS",
}
PUBLIC = "Accès : public (sans connexion)."


@dataclass(frozen=True)
class RouteAccess:
    """Who may call a route, read from its dependencies (``None``: no sign-in at all)."""

    roles: frozenset[Role] | None
    notes: tuple[str, ...] = ()

    def text(self) -> str:
        if self.roles is None:
            return PUBLIC
        labels = ", ".join(ROLE_LABELS[r] for r in Role if r in self.roles)
        text = f"Rôles : {labels}."
        if self.roles == frozenset(Role):
            text = f"Rôles : tout utilisateur connecté ({labels})."
        return " ".join([text, *(f"Restriction : {note}." for note in self.notes)])


def route_access(dependant: Any) -> RouteAccess:
    """The roles a route admits: those every ``require_roles`` allows, else every role."""
    roles: frozenset[Role] | None = None
    signed_in = False
    notes: list[str] = []
    stack = list(dependant.dependencies)
    while stack:
        sub = stack.pop()
        stack.extend(sub.dependencies)
        allowed = getattr(sub.call, "roles", None)
        if allowed is not None:
            roles = allowed if roles is None else roles & allowed
            if getattr(sub.call, "own", None):
                notes.append(sub.call.own)
        if sub.call is get_current_user:
            signed_in = True
    if roles is None and signed_in:
        roles = frozenset(Role)
    return RouteAccess(roles, tuple(dict.fromkeys(notes)))


def api_routes(app: FastAPI) -> list[tuple[str, set[str], RouteAccess]]:
    """Every ``/api`` route: path, methods and access, from the routes as the app serves them."""
    found = []
    for context in iter_route_contexts(app.routes):
        path = context.path_format or ""
        if isinstance(context.original_route, APIRoute) and path.startswith("/api"):
            found.append((path, set(context.methods or ()), route_access(context.dependant)))
    return found


def document_roles(app: FastAPI) -> None:
    """Write each API route's roles into its OpenAPI description (derived, never by hand)."""
    default = app.openapi

    def openapi() -> dict[str, Any]:
        schema = default()
        for path, methods, access in api_routes(app):
            for method in methods:
                operation = schema.get("paths", {}).get(path, {}).get(method.lower())
                if operation is None:
                    continue
                text = access.text()
                description = operation.get("description") or ""
                if text not in description:
                    operation["description"] = f"{description}\n\n{text}".strip()
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
