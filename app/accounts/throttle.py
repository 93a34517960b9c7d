"""Login throttling per account and per address (issue 20, finding 5).

After ``free`` failures, each further attempt must wait twice as long as the previous
one (``base_delay_s``, 2×, 4×… capped at a minute); at ``lock_after`` failures the
account or address is locked for ``lock_minutes`` and the lock is written to the audit
trail. A refused attempt never reaches the password check (no Argon2 work for it).

In-process, per process: several workers each keep their own counts, so the effective
limit is multiplied by the number of processes (the deployment runs one or two).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from app.core.errors import DomainError

MAX_DELAY_S = 60.0
#: Counters forgotten after this long without a failure (memory stays bounded).
FORGET_AFTER = dt.timedelta(hours=1)


class TooManyAttempts(DomainError):
    status_code = 429
    code = "too_many_attempts"
    default_message = "Trop de tentatives de connexion : réessayez plus tard."


@dataclass
class _Count:
    failures: int = 0
    last_failure: dt.datetime | None = None
    locked_until: dt.datetime | None = None


class LoginThrottle:
    def __init__(
        self, *, free: int, lock_after: int, lock_minutes: int, base_delay_s: float
    ) -> None:
        self.free = free
        self.lock_after = lock_after
        self.lock = dt.timedelta(minutes=lock_minutes)
        self.base_delay_s = base_delay_s
        self._counts: dict[tuple[str, str], _Count] = {}

    @staticmethod
    def keys(username: str, address: str) -> list[tuple[str, str]]:
        return [("account", username.strip().lower()), ("address", address)]

    def _delay(self, failures: int) -> dt.timedelta:
        if failures < self.free:
            return dt.timedelta(0)
        seconds = min(MAX_DELAY_S, self.base_delay_s * 2 ** (failures - self.free))
        return dt.timedelta(seconds=seconds)

    def check(self, keys: list[tuple[str, str]], now: dt.datetime) -> None:
        """Refuse (429) an attempt that comes while locked or before its delay has passed."""
        wait = dt.timedelta(0)
        for key in keys:
            count = self._counts.get(key)
            if count is None or count.last_failure is None:
                continue
            if count.last_failure + FORGET_AFTER < now and (
                count.locked_until is None or count.locked_until < now
            ):
                del self._counts[key]
                continue
            if count.locked_until is not None and count.locked_until > now:
                wait = max(wait, count.locked_until - now)
            else:
                wait = max(wait, count.last_failure + self._delay(count.failures) - now)
        if wait > dt.timedelta(0):
            seconds = math.ceil(wait.total_seconds())
            raise TooManyAttempts(
                f"Trop de tentatives de connexion : réessayez dans {_duration(seconds)}.",
                retry_after_s=seconds,
            )

    def failed(self, keys: list[tuple[str, str]], now: dt.datetime) -> list[tuple[str, str]]:
        """Count a failure; the keys this failure has just locked."""
        locked = []
        for key in keys:
            count = self._counts.setdefault(key, _Count())
            if count.locked_until is not None and count.locked_until <= now:
                count.failures, count.locked_until = 0, None  # the lock has served its time
            count.failures += 1
            count.last_failure = now
            if count.failures >= self.lock_after and count.locked_until is None:
                count.locked_until = now + self.lock
                locked.append(key)
        return locked

    def succeeded(self, username: str) -> None:
        """A good password clears the account's count (never the address's)."""
        self._counts.pop(("account", username.strip().lower()), None)


def _duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} s"
    return f"{math.ceil(seconds / 60)} min"
