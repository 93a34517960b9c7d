"""Root settings of the service, typed and passed in (never read at import time)."""

from __future__ import annotations

import secrets
from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_DEV_SECRET = "dev-only-secret-change-me"


class Settings(BaseSettings):
    """Everything the service needs to run; environment variables override the defaults."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: str = Field(default="development", description="development | production")
    database_url: str = "sqlite:///premier-recours.db"
    secret_key: str = _DEV_SECRET
    demo: bool = False
    timezone: str = "Europe/Paris"
    public_base_url: str = "http://127.0.0.1:8000"
    token_lifetime_minutes: int = 12 * 60
    # Sessions are materialised from weekly templates this many days ahead.
    session_horizon_days: int = 56
    teleconsultation_slot_minutes: int = 15
    home_visit_minutes: int = 20
    arrival_window_minutes: int = 60
    db_pool_size: int = 10
    # Argon2id cost (argon2-cffi defaults); lowering it is for test suites only.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    # The outbox worker and the periodic jobs inside the web process (`serve` turns it on
    # unless `--no-worker`; off for an app built by a test or another program).
    run_worker_in_process: bool = False
    # Longest lease of a periodic job's leader; a job's lease is also at most half its
    # interval, so a dead leader is replaced within one interval.
    leader_lease_seconds: float = Field(default=30.0, gt=0)
    # Log lines as JSON objects (one per line, with the request id) or uvicorn's text.
    log_format: Literal["text", "json"] = "text"
    # /metrics: with a token, a bearer is required; without one, open in development and
    # limited to loopback clients in production (see app/core/observability.py).
    metrics_token: SecretStr = SecretStr("")
    # `worker`: serve its own /metrics on this port (0: off); the API serves its own.
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.environment == "production" and self.secret_key == _DEV_SECRET:
            raise ValueError("SECRET_KEY doit être défini en production")
        return self

    @model_validator(mode="after")
    def _refuse_default_database(self) -> Settings:
        # The SQLite default is for a laptop: in production the database is chosen, never
        # implied (a container would otherwise write its data inside itself).
        if self.environment == "production" and "database_url" not in self.model_fields_set:
            raise ValueError(
                "DATABASE_URL doit être défini en production "
                "(par exemple postgresql://utilisateur:motdepasse@hote:5432/premier_recours)"
            )
        return self

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def random_secret() -> str:
    return secrets.token_urlsafe(32)
