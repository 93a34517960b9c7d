"""What every page shares: who may open it, the navigation by role, rendering."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from app.accounts.models import Role, User
from app.core.csrf import csrf_token
from app.core.errors import Forbidden
from app.core.timeutil import PARIS
from app.ui.session import PageUser
from app.ui.templating import templates

SECRETARIAT = (Role.secretary, Role.coordinator, Role.admin)
ROSTER = (Role.coordinator, Role.admin)

# (key, label, path, roles that see the link)
NAV = (
    ("tableau", "Tableau de bord", "/", SECRETARIAT),
    ("demande", "Nouvelle demande", "/demandes/nouvelle", SECRETARIAT),
    ("agenda", "Agenda", "/agenda", SECRETARIAT),
    ("orientation", "Orientation", "/orientation", SECRETARIAT),
    ("equipe", "Équipe", "/equipe", ROSTER),
    ("indicateurs", "Indicateurs", "/indicateurs", ROSTER),
    ("medecin", "Mon agenda", "/medecin", (Role.practitioner,)),
    ("sas", "SAS", "/sas", (Role.regulator,)),
)


def nav_for(user: User) -> list[dict[str, str]]:
    return [
        {"key": key, "label": label, "path": path}
        for key, label, path, roles in NAV
        if user.role in roles
    ]


def _require(*roles: Role):
    async def _check(user: PageUser) -> User:
        if user.role not in roles:
            raise Forbidden("Cette page est réservée au secrétariat et à la coordination.")
        return user

    return _check


async def _roster_only(user: PageUser) -> User:
    if user.role not in ROSTER:
        raise Forbidden("La gestion de l'équipe est réservée à la coordination.")
    return user


SecretariatUser = Annotated[User, Depends(_require(*SECRETARIAT))]
CoordinatorUser = Annotated[User, Depends(_roster_only)]


def today(request: Request) -> dt.date:
    return request.app.state.clock().astimezone(PARIS).date()


def render(
    request: Request,
    template: str,
    user: User | None,
    context: dict[str, Any] | None = None,
    *,
    active: str = "",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A page with the layout's needs filled in (user, nav, CSRF token, clock)."""
    data: dict[str, Any] = {
        "user": user,
        "nav": nav_for(user) if user else [],
        "active": active,
        "csrf_token": csrf_token(request),
        "now": request.app.state.clock(),
    }
    data.update(context or {})
    return templates.TemplateResponse(
        request, template, data, status_code=status_code, headers=headers
    )
