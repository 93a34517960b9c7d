"""Root settings of the service, typed and passed in (never read at import time).

One object, built once (``Settings()`` in the CLI, explicit values in tests) and passed to
``create_app``: it alone reads the environment. Each domain reads its section
(``settings.rounds``, ``settings.sas``, ``settings.telephony``, ``settings.orientation``),
filled from the same flat variables the README lists (``ROUNDS_TIME_LIMIT_S``,
``SAS_BASE_URL``, ``TWILIO_FROM``, ``ORIENTATION_SMTP_HOST``…). ``PUBLIC_BASE_URL``,
``CPTS_NAME`` and ``TIMEZONE`` are declared here once and copied into the sections that
need them.
"""

from __future__ import annotations

import datetime as dt
import secrets
from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from app.core.sections import OrientationSettings, RoundsSettings, SasSettings
from telephony.config import TelephonySettings

_DEV_SECRET = "dev-only-secret-change-me"


class Settings(BaseSettings):
    """Everything the service needs to run; environment variables override the defaults."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = Field(
        default="development", description="development | production (any case)"
    )
    database_url: str = "sqlite:///premier-recours.db"
    secret_key: str = _DEV_SECRET
    demo: bool = False
    timezone: str = "Europe/Paris"
    public_base_url: str = "http://127.0.0.1:8000"
    # Bearer tokens (/api/auth/token): short-lived, each revocable (issue 20, finding 4).
    token_lifetime_minutes: int = Field(default=60, ge=1)
    # Web sessions: ended after this long without a request, and this long after login.
    session_idle_minutes: int = Field(default=30, ge=1)
    session_absolute_hours: int = Field(default=8, ge=1)
    # Login throttling, per account and per address (app/accounts/throttle.py): free
    # failures, then a doubling delay from LOGIN_DELAY_BASE_S, then a lock.
    login_free_attempts: int = Field(default=5, ge=1)
    login_delay_base_s: float = Field(default=1.0, gt=0)
    login_lock_attempts: int = Field(default=10, ge=2)
    login_lock_minutes: int = Field(default=15, ge=1)
    # Public webhooks (/telephony/*, the SMS cancellation page): requests per minute and
    # address, in-process (app/core/protection.py).
    webhook_rate_per_minute: int = Field(default=300, ge=1)
    # Retention (app/dataprotection/retention.py, sources there): call logs lose the number,
    # SMS their text, audit events go after these many days; requests are kept (0: never
    # purged, R1112-7 CSP) and only counted when a duration is set.
    call_log_retention_days: int = Field(default=365, ge=1)
    sms_body_retention_days: int = Field(default=90, ge=1)
    audit_retention_days: int = Field(default=365, ge=183)
    request_retention_days: int = Field(default=0, ge=0)
    # Strict-Transport-Security max-age when served over HTTPS (0: no header).
    hsts_seconds: int = Field(default=0, ge=0)
    # Sessions are materialised from weekly templates this many days ahead.
    session_horizon_days: int = 56
    teleconsultation_slot_minutes: int = 15
    home_visit_minutes: int = 20
    arrival_window_minutes: int = 60
    # Teleconsultation video: rooms are created on this base (e.g. the CPTS's Jitsi server,
    # https://visio.cpts.example.fr); empty: no video link (app/appointments/video.py).
    video_base_url: str = ""
    # PDSA hours (regional: the ARS's cahier des charges): nights, Saturday afternoon,
    # Sundays and public holidays (`holidays` subdivision, e.g. "57"; "" = national).
    pdsa_night_start: dt.time = dt.time(20)
    pdsa_night_end: dt.time = dt.time(8)
    pdsa_saturday_from: dt.time = dt.time(12)
    pdsa_holidays_subdivision: str = ""
    # « Absent » may be recorded from an appointment's start plus this grace period.
    noshow_grace_minutes: int = Field(default=15, ge=0, le=240)
    # A freed slot offered by SMS to a waiting patient is held for them this long.
    waitlist_offer_hold_minutes: int = Field(default=15, ge=1, le=240)
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

    # --- shared by several sections (declared once, copied into them) ---------------------
    cpts_name: str = "CPTS de la Bièvre"

    # --- sections, one per domain; see SECTIONS for their variables ------------------------
    rounds: RoundsSettings = Field(default_factory=RoundsSettings)
    sas: SasSettings = Field(default_factory=SasSettings)
    telephony: TelephonySettings = Field(default_factory=TelephonySettings)
    orientation: OrientationSettings = Field(default_factory=OrientationSettings)

    @field_validator("environment", mode="before")
    @classmethod
    def _environment_case(cls, value: object) -> object:
        # `Production`, ` PRODUCTION `: one word whatever its case, so that a capital
        # letter never starts production with the default key; anything else is refused.
        if isinstance(value, str):
            value = value.strip().lower()
            if value not in ("development", "production"):
                raise ValueError("ENVIRONMENT vaut development ou production.")
        return value

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

    @model_validator(mode="after")
    def _share_root_values(self) -> Settings:
        """The sections' copies of PUBLIC_BASE_URL, CPTS_NAME and TIMEZONE follow the root."""
        self.telephony = self.telephony.model_copy(
            update={
                "public_base_url": self.public_base_url.rstrip("/"),
                "cpts_name": self.cpts_name,
                "timezone": self.timezone,
            }
        )
        self.sas = self.sas.model_copy(update={"cpts_name": self.cpts_name})
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        env_file = getattr(dotenv_settings, "env_file", None)
        return (
            init_settings,
            _SectionsSource(settings_cls, env_file=env_file),
            env_settings,
            dotenv_settings,
            file_secret_settings,
        )

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


#: Each section, its model and the prefix of its variables (empty: the field's name).
SECTIONS: dict[str, tuple[type[BaseModel], str]] = {
    "rounds": (RoundsSettings, ""),
    "sas": (SasSettings, ""),
    "telephony": (TelephonySettings, ""),
    "orientation": (OrientationSettings, "ORIENTATION_"),
}
#: Section fields filled from the root, never from their own variable.
_SHARED = frozenset({"public_base_url", "cpts_name", "timezone"})


class _SectionsSource(PydanticBaseSettingsSource):
    """Reads each section's flat variables (environment over ``.env``) into a nested dict."""

    def __init__(self, settings_cls: type[BaseSettings], *, env_file: object) -> None:
        super().__init__(settings_cls)
        self._env_file = env_file

    def get_field_value(self, field: object, field_name: str) -> tuple[object, str, bool]:
        return None, field_name, False  # unused: __call__ reads whole sections

    def __call__(self) -> dict[str, object]:
        values: dict[str, object] = {}
        for name, (model, prefix) in SECTIONS.items():
            reader = _reader(model, prefix)
            found: dict[str, object] = {}
            if self._env_file:
                found.update(DotEnvSettingsSource(reader, env_file=self._env_file)())  # type: ignore[arg-type]
            found.update(EnvSettingsSource(reader)())
            found = {k: v for k, v in found.items() if k not in _SHARED}
            if found:
                values[name] = found
        return values


def _reader(model: type[BaseModel], prefix: str) -> type[BaseSettings]:
    """A throw-away settings class with the section's fields, to reuse pydantic's parsing."""
    return type(
        f"_{model.__name__}Variables",
        (BaseSettings, model),
        {"model_config": SettingsConfigDict(env_prefix=prefix, extra="ignore")},
    )


def random_secret() -> str:
    return secrets.token_urlsafe(32)
