"""Settings of the orientation domain (built by the wiring, never read at import time)."""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

from app.orientation.matching import ARC_SCALE, MatchParameters


class OrientationSettings(BaseSettings):
    """How GPs are told that a patient chose them; how far a practice may be proposed."""

    model_config = SettingsConfigDict(env_prefix="ORIENTATION_", env_file=".env", extra="ignore")

    # The preferred channel; the other one is used when the GP has no contact on it.
    notify_channel: Literal["sms", "email"] = "sms"
    max_travel_minutes: float = 40.0
    language_penalty_minutes: float = 5.0
    history_bonus_minutes: float = 3.0
    sweep_interval_seconds: int = 3600
    # E-mail to GPs: SMTP when a host is set, otherwise printed and logged (development).
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    mail_from: str = "premier-recours@localhost"

    def match_parameters(self) -> MatchParameters:
        return MatchParameters(
            max_travel_minutes=self.max_travel_minutes,
            language_penalty=round(self.language_penalty_minutes * ARC_SCALE),
            history_bonus=round(self.history_bonus_minutes * ARC_SCALE),
        )
