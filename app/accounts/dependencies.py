"""Who is calling: bearer token (API) or session cookie (web UI), and what they may do."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from app.accounts import service as accounts_service
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
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_roles(*roles: Role) -> Any:
    """A dependency refusing (403) every role not listed."""

    async def _check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden("Votre rôle ne permet pas cette action.")
        return user

    return Depends(_check)


STAFF = (Role.secretary, Role.coordinator, Role.admin)
