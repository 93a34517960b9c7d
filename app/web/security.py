"""Pages: the signed session cookie, CSRF tokens, and "log in first" redirects."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request

from app.accounts import service as accounts_service
from app.accounts.models import Role, User
from app.core.db import SessionDep
from app.core.errors import DomainError, Forbidden


class LoginRequired(DomainError):
    """Raised by page dependencies; the page handler answers with a redirect to /login."""

    status_code = 303
    code = "login_required"
    default_message = "Veuillez vous connecter."


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get("csrf")
    if not expected or not submitted or not secrets.compare_digest(expected, submitted):
        raise Forbidden("Formulaire expiré ou invalide (jeton CSRF) : rechargez la page.")


async def verify_csrf(request: Request) -> None:
    """Every state-changing page request carries the session's CSRF token (form or header)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    submitted = request.headers.get("x-csrf-token")
    if submitted is None:
        form = await request.form()
        value = form.get("csrf_token")
        submitted = value if isinstance(value, str) else None
    check_csrf(request, submitted)


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
CsrfChecked = Depends(verify_csrf)


def require_page_roles(*roles: Role):
    async def _check(user: PageUser) -> User:
        if user.role not in roles:
            raise Forbidden("Cette page n'est pas accessible avec votre rôle.")
        return user

    return Depends(_check)


def login(request: Request, user: User) -> None:
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
