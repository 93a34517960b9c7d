"""CSRF tokens of the signed session cookie: one per session, checked on every write.

Here, below every domain, because both the API (a cookie-authenticated call) and
the pages check it.
"""

from __future__ import annotations

import secrets

from fastapi import Depends, Request

from app.core.errors import Forbidden


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


CsrfChecked = Depends(verify_csrf)
