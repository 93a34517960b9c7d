"""Accounts: authentication, creation, revocation."""

from __future__ import annotations

import asyncio
import functools
import os
import weakref
from typing import Any

from anyio import CapacityLimiter, to_thread
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import sessions as auth_sessions
from app.accounts.models import Role, User
from app.accounts.throttle import LoginThrottle
from app.core.errors import Conflict, InvalidInput, Unauthorized
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
    # End the read before Argon2 (tens of ms in a thread): no transaction, hence no lock
    # (SQLite takes its write lock at BEGIN), is held while hashing.
    await session.commit()
    usable = (
        user is not None
        and user.active
        and user.password_hash
        and (allow_demo or not user.demo_only)
    )
    if not usable:
        # Same work either way, so timing does not reveal which usernames exist.
        dummy = await to_thread.run_sync(_dummy_hash, limiter=_hash_limiter())
        await check_password(password, dummy)
        return None
    assert user is not None and user.password_hash
    return user if await check_password(password, user.password_hash) else None


async def login_attempt(
    app: Any, *, session: AsyncSession, username: str, password: str, address: str
) -> User:
    """``authenticate`` behind the throttle: 429 while delayed or locked, 401 on a failure.

    A failure that locks an account or address is written to the audit trail and
    committed at once (the request itself ends in an error, which rolls back).
    """
    throttle: LoginThrottle = app.state.login_throttle
    keys = throttle.keys(username, address)
    await throttle.check(keys, app.state.clock())
    user = await authenticate(
        session=session, username=username, password=password, allow_demo=app.state.settings.demo
    )
    if user is None:
        locked = await throttle.failed(keys, app.state.clock())
        if locked:
            await record_event(
                app,
                session=session,
                actor=None,
                action="login_locked",
                target=await get_by_username(session=session, username=username.strip()),
                detail={
                    "locked": [kind for kind, _ in locked],
                    "username": username.strip()[:80],
                    "address": address,
                    "minutes": int(throttle.lock.total_seconds() // 60),
                },
            )
            await session.commit()
        raise Unauthorized("Identifiant ou mot de passe incorrect.")
    await throttle.succeeded(username)
    return user


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
        password_hash=(
            await to_thread.run_sync(hash_password, password, limiter=_hash_limiter())
            if password
            else None
        ),
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
    await revoke_sessions(session=session, user=user)


async def revoke_sessions(*, session: AsyncSession, user: User) -> int:
    """End every web session and bearer token of the account; how many were open."""
    user.token_version += 1
    ended = await auth_sessions.revoke_user(session=session, user_id=user.id)
    await session.flush()
    return ended


async def change_password(
    *, session: AsyncSession, user: User, current_password: str, new_password: str
) -> None:
    if not user.password_hash or not await check_password(current_password, user.password_hash):
        raise InvalidInput("Mot de passe actuel incorrect.", field="current_password")
    user.password_hash = await to_thread.run_sync(
        hash_password, new_password, limiter=_hash_limiter()
    )
    await revoke_sessions(session=session, user=user)


async def check_password(password: str, password_hash: str) -> bool:
    """Argon2 in a worker thread: a login never stalls the event loop (issue 20, finding 5)."""
    return await to_thread.run_sync(
        verify_password, password, password_hash, limiter=_hash_limiter()
    )


_LIMITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def _hash_limiter() -> CapacityLimiter:
    """At most half the cores hash at once: the event loop keeps a core to answer other
    requests (20 concurrent logins would otherwise starve it), and Argon2's memory
    (64 MiB a hash) stays bounded. One limiter per event loop."""
    loop = asyncio.get_running_loop()
    limiter = _LIMITERS.get(loop)
    if limiter is None:
        limiter = _LIMITERS[loop] = CapacityLimiter(max(1, (os.cpu_count() or 2) // 2))
    return limiter


async def record_event(
    app: Any,
    *,
    session: AsyncSession,
    actor: User | None,
    action: str,
    target: User | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """An account event in the audit trail, through the writer the audit package registers
    (``app.state.record_account_event``: accounts sits below audit in the import graph)."""
    writer = getattr(app.state, "record_account_event", None)
    if writer is not None:
        await writer(
            session=session,
            actor=actor,
            action=action,
            entity_type="user",
            entity_id=target.id if target else None,
            detail=detail or {},
        )


@functools.cache
def _dummy_hash() -> str:
    return hash_password("premier-recours-timing-equaliser")
