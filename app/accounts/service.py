"""Accounts: authentication, creation, revocation."""

from __future__ import annotations

import functools

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role, User
from app.core.errors import Conflict
from app.core.security import hash_password, verify_password


async def get(*, session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def get_by_username(*, session: AsyncSession, username: str) -> User | None:
    return await session.scalar(select(User).where(User.username == username))


async def authenticate(
    *, session: AsyncSession, username: str, password: str, allow_demo: bool = False
) -> User | None:
    """The account for these credentials; demo accounts only open in demo mode."""
    user = await get_by_username(session=session, username=username.strip())
    usable = (
        user is not None
        and user.active
        and user.password_hash
        and (allow_demo or not user.demo_only)
    )
    if not usable:
        # Same work either way, so timing does not reveal which usernames exist.
        verify_password(password, _dummy_hash())
        return None
    assert user is not None and user.password_hash
    return user if verify_password(password, user.password_hash) else None


async def create(
    *,
    session: AsyncSession,
    username: str,
    password: str | None,
    role: Role,
    full_name: str = "",
    practitioner_id: int | None = None,
    demo_only: bool = False,
) -> User:
    if await get_by_username(session=session, username=username):
        raise Conflict(f"L'identifiant « {username} » existe déjà.", field="username")
    user = User(
        username=username,
        password_hash=hash_password(password) if password else None,
        role=role,
        full_name=full_name,
        practitioner_id=practitioner_id,
        demo_only=demo_only,
    )
    session.add(user)
    await session.flush()
    return user


async def revoke(*, session: AsyncSession, user: User) -> None:
    """Deactivate the account and invalidate its tokens at once."""
    user.active = False
    user.token_version += 1
    await session.flush()


@functools.cache
def _dummy_hash() -> str:
    return hash_password("premier-recours-timing-equaliser")
