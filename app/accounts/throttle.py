"""Login throttling per account and per address (issue 20, finding 5).

After ``free`` failures, each further attempt must wait twice as long as the previous
one (``base_delay_s``, 2×, 4×… capped at a minute); at ``lock_after`` failures the
account or address is locked for ``lock_minutes`` and the lock is written to the audit
trail. A refused attempt never reaches the password check (no Argon2 work for it).

The counts are kept in the database (table ``shared_limits``, app/core/limits.py): every
web process reads and adds to the same count, so running two processes does not double
the number of attempts allowed. Each read or update is its own short transaction, apart
from the request's (whose 401 rolls back), and never blocks the event loop.
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core import limits
from app.core.errors import DomainError

MAX_DELAY_S = 60.0
#: A run of failures is forgotten after this long without a new one.
FORGET_AFTER = dt.timedelta(hours=1)


class TooManyAttempts(DomainError):
    status_code = 429
    code = "too_many_attempts"
    default_message = "Trop de tentatives de connexion : réessayez plus tard."


class LoginThrottle:
    """The counts live in the database (app/core/limits.py), shared by every process."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        free: int,
        lock_after: int,
        lock_minutes: int,
        base_delay_s: float,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.free = free
        self.lock_after = lock_after
        self.lock = dt.timedelta(minutes=lock_minutes)
        self.base_delay_s = base_delay_s

    @staticmethod
    def keys(username: str, address: str) -> list[tuple[str, str]]:
        return [("account", username.strip().lower()[:150]), ("address", address[:150])]

    @staticmethod
    def _key(key: tuple[str, str]) -> str:
        return f"login:{key[0]}:{key[1]}"

    def _delay(self, failures: int) -> dt.timedelta:
        if failures < self.free:
            return dt.timedelta(0)
        seconds = min(MAX_DELAY_S, self.base_delay_s * 2 ** (failures - self.free))
        return dt.timedelta(seconds=seconds)

    async def check(self, keys: list[tuple[str, str]], now: dt.datetime) -> None:
        """Refuse (429) an attempt that comes while locked or before its delay has passed."""
        wait = dt.timedelta(0)
        for count in await limits.read(self.sessionmaker, [self._key(k) for k in keys]):
            locked = count.locked_until is not None and count.locked_until > now
            if locked:
                assert count.locked_until is not None
                wait = max(wait, count.locked_until - now)
            elif count.locked_until is None and count.last_at + FORGET_AFTER >= now:
                wait = max(wait, count.last_at + self._delay(count.count) - now)
        if wait > dt.timedelta(0):
            seconds = math.ceil(wait.total_seconds())
            raise TooManyAttempts(
                f"Trop de tentatives de connexion : réessayez dans {_duration(seconds)}.",
                retry_after_s=seconds,
            )

    async def failed(self, keys: list[tuple[str, str]], now: dt.datetime) -> list[tuple[str, str]]:
        """Count a failure; the keys this failure has just locked (in any process)."""
        counted = await limits.add_failures(
            self.sessionmaker,
            [self._key(k) for k in keys],
            now,
            forget_before=now - FORGET_AFTER,
            lock_after=self.lock_after,
            lock_for=self.lock,
        )
        return [key for key, (_, locked) in zip(keys, counted, strict=True) if locked]

    async def succeeded(self, username: str) -> None:
        """A good password clears the account's count (never the address's)."""
        await limits.clear(
            self.sessionmaker, self._key(("account", username.strip().lower()[:150]))
        )


def _duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} s"
    return f"{math.ceil(seconds / 60)} min"
