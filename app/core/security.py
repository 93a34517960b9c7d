"""Password hashing and signed bearer tokens."""

from __future__ import annotations

from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

_hasher = PasswordHasher()


def configure_hashing(*, time_cost: int, memory_cost_kib: int) -> None:
    """Argon2 cost is a setting: production keeps the library's defaults, tests go light."""
    global _hasher
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost_kib)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


class TokenSigner:
    """Bearer tokens signed with the secret; revocation through the user's token version."""

    def __init__(self, secret: str, *, lifetime_seconds: int, salt: str = "api-token"):
        self._serializer = URLSafeTimedSerializer(secret, salt=salt)
        self.lifetime_seconds = lifetime_seconds

    def issue(self, payload: dict[str, Any]) -> str:
        return self._serializer.dumps(payload)

    def read(self, token: str) -> dict[str, Any] | None:
        try:
            data = self._serializer.loads(token, max_age=self.lifetime_seconds)
        except (BadSignature, SignatureExpired):
            return None
        return data if isinstance(data, dict) else None
