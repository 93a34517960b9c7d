"""Pages: who is logged in through the server-side session, and "log in first" redirects."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.accounts import service as accounts_service
from app.accounts.models import Role, User
from app.accounts.sessions import rotate
from app.core.csrf import csrf_token
from app.core.db import SessionDep
from app.core.errors import DomainError, Forbidden


class LoginRequired(DomainError):
    """Raised by page dependencies; the page handler answers with a redirect to /login."""

    status_code = 303
    code = "login_required"
    default_message = "Veuillez vous connecter."


async def page_user(request: Request, session: SessionDep) -> User:
    uid = request.session.get("uid")
    if uid is None:
        raise LoginRequired()
    user = await accounts_service.get(session=session, user_id=int(uid))
    demo_refused = user is not None and user.demo_only and not request.app.state.settings.demo
    if (
        user is None
        or not user.active
        or demo_refused
        or user.token_version != request.session.get("v")
    ):
        request.session.clear()
        raise LoginRequired()
    return user


PageUser = Annotated[User, Depends(page_user)]


def require_page_roles(*roles: Role):
    async def _check(user: PageUser) -> User:
        if user.role not in roles:
            raise Forbidden("Cette page n'est pas accessible avec votre rôle.")
        return user

    return Depends(_check)


def login(request: Request, user: User) -> None:
    """A new session id at login (no fixation); the row, not the cookie, holds who it is."""
    rotate(request)
    request.session.clear()
    request.session.update({"uid": user.id, "v": user.token_version, "role": str(user.role)})
    csrf_token(request)


def home_for(user: User) -> str:
    return {
        Role.practitioner: "/medecin",
        Role.regulator: "/sas",
        Role.coordinator: "/",
        Role.admin: "/",
    }.get(user.role, "/")
