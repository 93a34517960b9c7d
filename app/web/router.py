"""Login and logout for every page of the service, and the secretariat's pages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.accounts import service as accounts_service
from app.accounts.router import client_address
from app.accounts.throttle import TooManyAttempts
from app.core.csrf import check_csrf, csrf_token
from app.core.db import SessionDep
from app.core.errors import Unauthorized
from app.ui.session import home_for, login
from app.ui.templating import templates
from app.web import (
    agenda,
    appointments,
    dashboard,
    intake,
    orientation,
    patients,
    roster,
    roster_edit,
    roster_pairs,
)

router = APIRouter(include_in_schema=False)
for _pages in (
    dashboard,
    intake,
    agenda,
    appointments,
    patients,
    roster,
    roster_edit,
    roster_pairs,
    orientation,
):
    router.include_router(_pages.router)


def _safe_next(target: str | None) -> str | None:
    # Only local paths: never redirect a fresh login to another site.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str | None = None) -> Any:
    return templates.TemplateResponse(
        request,
        "web/login.html",
        {
            "csrf_token": csrf_token(request),
            "next": _safe_next(next) or "",
            "username": "",
            "error": None,
        },
    )


@router.post("/login", response_class=HTMLResponse)
async def login_submit(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token_field: Annotated[str, Form(alias="csrf_token")] = "",
    next: Annotated[str, Form()] = "",
) -> Any:
    check_csrf(request, csrf_token_field)
    try:
        user = await accounts_service.login_attempt(
            request.app,
            session=session,
            username=username,
            password=password,
            address=client_address(request),
        )
    except (Unauthorized, TooManyAttempts) as refused:
        # Throttled per account and per address (app/accounts/throttle.py).
        return templates.TemplateResponse(
            request,
            "web/login.html",
            {
                "csrf_token": csrf_token(request),
                "next": _safe_next(next) or "",
                "username": username,
                "error": refused.message,
            },
            status_code=refused.status_code,
        )
    login(request, user)
    return RedirectResponse(_safe_next(next) or home_for(user), status_code=303)


@router.post("/logout")
async def logout(
    request: Request, csrf_token_field: Annotated[str, Form(alias="csrf_token")] = ""
) -> Any:
    check_csrf(request, csrf_token_field)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
