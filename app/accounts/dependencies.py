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


_ERROR_TEXT = {
    "400": "Demande refusée par une règle métier.",
    "401": "Authentification requise ou jeton expiré.",
    "403": "Rôle non autorisé, ou ressource d'un autre médecin.",
    "404": "Ressource introuvable.",
    "409": "Conflit avec l'état actuel (créneau pris, doublon, transition impossible).",
    "415": "Type de contenu non pris en charge.",
    "422": "Données invalides (message en français, champ en cause).",
    "503": "Service momentanément indisponible.",
}
_API_ERROR = {
    "type": "object",
    "required": ["message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
}
_OPERATION_OUTCOME = {
    "type": "object",
    "required": ["resourceType", "issue"],
    "properties": {"resourceType": {"const": "OperationOutcome"}, "issue": {"type": "array"}},
}
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def error_statuses(
    path: str, method: str, access: RouteAccess, has_input: bool, id_in_query: bool = False
) -> set[str]:
    """The refusals a route can answer, derived from what it takes and who may call it.

    Signed-in routes refuse (401, 403); ids in the path can be missing (404); writes meet
    business rules (400, 409, 422 and ids in the body: 404); any input can be invalid (422).
    The FHIR surface answers in OperationOutcome with the same codes (and 415 on writes).
    """
    codes: set[str] = set()
    if access.roles is not None:
        codes |= {"401", "403"}
    if "{" in path or id_in_query:
        codes |= {"404", "422"}
    if has_input:
        codes.add("422")
    if method in _WRITES:
        codes |= {"400", "404", "409", "422"}
    if path.startswith("/fhir"):
        codes |= {"400", "401", "403", "404", "422"}
        if method in _WRITES:
            codes.add("415")
    if path.startswith("/telephony"):
        codes.add("403")  # a request without a valid Twilio signature
    if path.startswith("/api/rounds") and method in _WRITES:
        codes.add("503")  # the solver is busy or unavailable
    return codes


def document_errors(app: FastAPI) -> None:
    """Write each route's refusals into its OpenAPI responses (derived, never by hand)."""
    default = app.openapi

    def openapi() -> dict[str, Any]:
        schema = default()
        for context in iter_route_contexts(app.routes):
            route = context.original_route
            path = context.path_format or ""
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            dependant = context.dependant
            access = route_access(dependant)
            has_input = bool(
                dependant.path_params
                or dependant.query_params
                or dependant.body_params
                or dependant.header_params
                or dependant.cookie_params
            )
            id_in_query = any(p.name.endswith("_id") for p in dependant.query_params)
            for method in context.methods or ():
                operation = schema.get("paths", {}).get(path, {}).get(method.lower())
                if operation is None:
                    continue
                responses = operation.setdefault("responses", {})
                body = _OPERATION_OUTCOME if path.startswith("/fhir") else _API_ERROR
                media = "application/fhir+json" if path.startswith("/fhir") else "application/json"
                for code in sorted(error_statuses(path, method, access, has_input, id_in_query)):
                    if code in responses and code != "422":
                        continue
                    responses[code] = {
                        "description": _ERROR_TEXT[code],
                        "content": {media: {"schema": body}},
                    }
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
