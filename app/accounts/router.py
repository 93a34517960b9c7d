"""Token endpoint (OAuth2 password flow) and the caller's own account."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from app.accounts import service as accounts_service
from app.accounts.dependencies import CurrentUser
from app.core.db import SessionDep
from app.core.errors import Unauthorized

router = APIRouter(prefix="/api", tags=["accounts"])


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


@router.post("/auth/token", response_model=TokenOut)
async def issue_token(
    request: Request, session: SessionDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> Any:
    user = await accounts_service.authenticate(
        session=session,
        username=form.username,
        password=form.password,
        allow_demo=request.app.state.settings.demo,
    )
    if user is None:
        raise Unauthorized("Identifiant ou mot de passe incorrect.")
    signer = request.app.state.token_signer
    return TokenOut(
        access_token=signer.issue({"uid": user.id, "v": user.token_version}),
        role=str(user.role),
        expires_in=signer.lifetime_seconds,
    )


@router.get("/me", response_model=UserOut)
async def me(user: CurrentUser) -> Any:
    return user
