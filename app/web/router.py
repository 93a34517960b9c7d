"""Login and logout for every page of the service, and the secretariat's pages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.accounts import service as accounts_service
from app.core.csrf import check_csrf, csrf_token
from app.core.db import SessionDep
from app.ui.session import home_for, login
from app.ui.templating import templates
from app.web import agenda, appointments, dashboard, intake, orientation, patients, roster

router = APIRouter(include_in_schema=False)
for _pages in (dashboard, intake, agenda, appointments, patients, roster, orientation):
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
    user = await accounts_service.authenticate(
        session=session,
        username=username,
        password=password,
        allow_demo=request.app.state.settings.demo,
    )
    if user is None:
        return templates.TemplateResponse(
            request,
            "web/login.html",
            {
                "csrf_token": csrf_token(request),
                "next": _safe_next(next) or "",
                "username": username,
                "error": "Identifiant ou mot de passe incorrect.",
            },
            status_code=401,
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
