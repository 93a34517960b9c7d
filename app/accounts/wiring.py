"""Accounts on the app: the login throttle (its counts in the database, shared by processes)."""

from __future__ import annotations

from fastapi import FastAPI

from app.accounts.throttle import LoginThrottle
from app.core.config import Settings


def setup(app: FastAPI, settings: Settings) -> None:
    app.state.login_throttle = LoginThrottle(
        sessionmaker=app.state.sessionmaker,
        free=settings.login_free_attempts,
        lock_after=settings.login_lock_attempts,
        lock_minutes=settings.login_lock_minutes,
        base_delay_s=settings.login_delay_base_s,
    )
