"""Server-side sessions: the web UI's cookie and the API's bearer tokens name a row here.

Issue 20, finding 4: the signed cookie carried uid, role and CSRF token in readable
base64 and outlived logout for 8 h. Now the cookie holds only a random id; the data sits
in ``auth_sessions`` under the SHA-256 of that id (a copy of the table opens nothing).
Logout, a password change and the coordinator delete rows; idle and absolute expiry are
settings. Bearer tokens carry a random ``jti`` whose row must still exist.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.accounts.models import AuthSession
from app.core.db import unreachable
from app.core.errors import DomainError, ServiceUnavailable
from app.core.handlers import hand_on

WEB = "web"
API = "api"
#: last_seen_at is written at most this often (one write per request would be wasteful).
TOUCH_EVERY = dt.timedelta(seconds=60)
_STATE = "premier_recours.auth_session"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


# --- bearer tokens -------------------------------------------------------------------


async def open_token(
    *, session: AsyncSession, user_id: int, now: dt.datetime, lifetime: dt.timedelta
) -> str:
    """A fresh ``jti`` recorded for this user until ``now + lifetime``."""
    jti = new_secret()
    session.add(
        AuthSession(
            id=digest(jti),
            kind=API,
            user_id=user_id,
            data={},
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        )
    )
    await session.flush()
    return jti


async def token_is_open(*, session: AsyncSession, jti: str, user_id: int, now: dt.datetime) -> bool:
    row = await session.get(AuthSession, digest(jti))
    return row is not None and row.kind == API and row.user_id == user_id and row.expires_at > now


async def close_token(*, session: AsyncSession, jti: str) -> None:
    await session.execute(delete(AuthSession).where(AuthSession.id == digest(jti)))


async def revoke_user(*, session: AsyncSession, user_id: int) -> int:
    """End every web session and bearer token of this user; how many there were."""
    result = await session.execute(delete(AuthSession).where(AuthSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)


async def purge_expired(*, session: AsyncSession, now: dt.datetime, idle: dt.timedelta) -> int:
    result = await session.execute(
        delete(AuthSession).where(
            or_(
                AuthSession.expires_at <= now,
                (AuthSession.kind == WEB) & (AuthSession.last_seen_at <= now - idle),
            )
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- the web UI's cookie ---------------------------------------------------------------


@dataclass
class _State:
    secret: str | None
    stored: str  # the data as loaded (JSON), to see whether the request changed it
    last_seen: dt.datetime | None = None
    rotate: bool = False
    data: dict[str, Any] = field(default_factory=dict)


def rotate(request: Request) -> None:
    """Give this session a new id at the end of the request (at login: no fixation)."""
    state = request.scope.get(_STATE)
    if state is not None:
        state.rotate = True


class ServerSessionMiddleware:
    """``request.session`` as before, but stored in ``auth_sessions``; the cookie is an id."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        cookie_name: str,
        idle: dt.timedelta,
        absolute: dt.timedelta,
        https_only: bool,
    ) -> None:
        self.app = app
        self.cookie_name = cookie_name
        self.idle = idle
        self.absolute = absolute
        self.https_only = https_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        application = scope["app"]
        maker: async_sessionmaker[AsyncSession] = application.state.sessionmaker
        clock = application.state.clock
        secret = HTTPConnection(scope).cookies.get(self.cookie_name)
        state = _State(secret=None, stored="{}")
        if secret:
            try:
                state = await self._load(maker, clock(), secret) or state
            except Exception as exc:
                if not unreachable(exc):
                    raise
                # The database is out of reach before any route runs: the app's own 503
                # (French, in the surface's format), not a 500 from the middleware.
                error = ServiceUnavailable(retry_after_s=5)
                handler = application.exception_handlers[DomainError]
                response = await hand_on(handler, Request(scope, receive), error)
                await response(scope, receive, send)
                return
        scope["session"] = state.data
        scope[_STATE] = state
        had_cookie = bool(secret)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                try:
                    cookie = await self._save(maker, clock(), state)
                except Exception as exc:
                    if not unreachable(exc):
                        raise
                    # The answer (often the app's 503) goes out; the cookie stays as it was.
                    await send(message)
                    return
                if cookie is not None or (had_cookie and state.secret is None):
                    headers = MutableHeaders(scope=message)
                    headers.append("Set-Cookie", self._cookie(cookie))
            await send(message)

        await self.app(scope, receive, send_wrapper)

    async def _load(
        self, maker: async_sessionmaker[AsyncSession], now: dt.datetime, secret: str
    ) -> _State | None:
        """The stored session named by the cookie, if it is live; an expired one is deleted."""
        async with maker() as db, db.begin():
            row = await db.get(AuthSession, digest(secret))
            if row is None or row.kind != WEB:
                return None
            if row.expires_at > now and row.last_seen_at + self.idle > now:
                state = _State(
                    secret=secret,
                    stored=json.dumps(row.data, sort_keys=True),
                    last_seen=row.last_seen_at,
                )
                state.data = dict(row.data)
                return state
            await db.delete(row)
            return None

    async def _save(
        self, maker: async_sessionmaker[AsyncSession], now: dt.datetime, state: _State
    ) -> str | None:
        """Write what changed; the new cookie value when it changes, else None."""
        data = state.data
        changed = json.dumps(data, sort_keys=True, default=str) != state.stored
        uid = data.get("uid")
        async with maker() as db, db.begin():
            if state.secret and (not data or state.rotate):
                # Logout (data cleared) or login (new id): the old row goes.
                await db.execute(delete(AuthSession).where(AuthSession.id == digest(state.secret)))
                state.secret = None
            if not data:
                return None
            if state.secret is None:
                state.secret = new_secret()
                db.add(
                    AuthSession(
                        id=digest(state.secret),
                        kind=WEB,
                        user_id=int(uid) if uid is not None else None,
                        data=data,
                        created_at=now,
                        last_seen_at=now,
                        expires_at=now + self.absolute,
                    )
                )
                return state.secret
            if changed or state.last_seen is None or now - state.last_seen >= TOUCH_EVERY:
                row = await db.get(AuthSession, digest(state.secret))
                if row is None:  # revoked while the request ran
                    return None
                row.data = data
                row.user_id = int(uid) if uid is not None else None
                row.last_seen_at = now
        return None

    def _cookie(self, value: str | None) -> str:
        parts = [f"{self.cookie_name}={value or ''}", "Path=/", "HttpOnly", "SameSite=Lax"]
        if value is None:
            parts.append("Max-Age=0")
        if self.https_only:
            parts.append("Secure")
        return "; ".join(parts)


async def open_web_sessions(*, session: AsyncSession, user_id: int) -> list[AuthSession]:
    rows = await session.scalars(
        select(AuthSession).where(AuthSession.user_id == user_id, AuthSession.kind == WEB)
    )
    return list(rows.all())
