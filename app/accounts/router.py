"""Token endpoint (OAuth2 password flow), logout, the caller's own account and password,
and the coordinator's revocation of someone's sessions."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from app.accounts import service as accounts_service
from app.accounts import sessions as auth_sessions
from app.accounts.dependencies import CurrentUser, require_roles
from app.accounts.models import Role, User
from app.core.db import SessionDep
from app.core.errors import NotFound

router = APIRouter(prefix="/api", tags=["accounts"])


def client_address(request: Request) -> str:
    """The caller's address (uvicorn's --proxy-headers puts the real one here)."""
    return request.client.host if request.client else "inconnue"


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    role: str
    expires_in: int


class UserOut(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    username: str
    full_name: str
    role: str
    practitioner_id: int | None


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=200)
    new_password: str = Field(min_length=12, max_length=200)


class Revoked(BaseModel):
    user_id: int
    sessions_ended: int


@router.post("/auth/token", response_model=TokenOut)
async def issue_token(
    request: Request, session: SessionDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> Any:
    user = await accounts_service.login_attempt(
        request.app,
        session=session,
        username=form.username,
        password=form.password,
        address=client_address(request),
    )
    signer = request.app.state.token_signer
    jti = await auth_sessions.open_token(
        session=session,
        user_id=user.id,
        now=request.app.state.clock(),
        lifetime=dt.timedelta(seconds=signer.lifetime_seconds),
    )
    return TokenOut(
        access_token=signer.issue({"uid": user.id, "v": user.token_version, "jti": jti}),
        role=str(user.role),
        expires_in=signer.lifetime_seconds,
    )


@router.post("/auth/logout", status_code=204)
async def revoke_own_token(request: Request, session: SessionDep, user: CurrentUser) -> None:
    """End the bearer token of this call (or the web session calling it)."""
    jti = getattr(request.state, "token_jti", None)
    if jti:
        await auth_sessions.close_token(session=session, jti=jti)
    elif request.scope.get("session") is not None:
        request.session.clear()


@router.get("/me", response_model=UserOut)
async def me(user: CurrentUser) -> Any:
    return user


@router.post("/me/password", status_code=204)
async def change_password(
    body: PasswordChange, request: Request, session: SessionDep, user: CurrentUser
) -> None:
    """A new password ends every session and token of the account, this one included."""
    await accounts_service.change_password(
        session=session,
        user=user,
        current_password=body.current_password,
        new_password=body.new_password,
    )
    if request.scope.get("session") is not None:
        request.session.clear()


@router.post("/accounts/{user_id}/revoke-sessions", response_model=Revoked)
async def revoke_sessions(
    user_id: int,
    session: SessionDep,
    request: Request,
    actor: Annotated[User, require_roles(Role.coordinator, Role.admin)],
) -> Any:
    """End every web session and bearer token of an account (lost device, departure)."""
    target = await session.get(User, user_id) if 0 < user_id < 2**31 else None
    if target is None:
        raise NotFound("Compte introuvable.")
    ended = await accounts_service.revoke_sessions(session=session, user=target)
    await accounts_service.record_event(
        request.app,
        session=session,
        actor=actor,
        action="revoke_sessions",
        target=target,
        detail={"sessions_ended": ended},
    )
    return Revoked(user_id=target.id, sessions_ended=ended)
