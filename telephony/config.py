"""Telephony settings: a typed model, filled by whoever embeds the package.

Nothing here reads the environment: the app's root settings (``app.core.config``) read
the variables and build this model as their ``telephony`` section (tests pass every
value explicitly), then hand it to :func:`telephony.build_provider` and the pure helpers.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from functools import cached_property
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

#: Opening hours of the phone secretariat, by ISO weekday (1 = Monday … 7 = Sunday).
OpeningHours = dict[int, list[tuple[dt.time, dt.time]]]

DEFAULT_SECRETARIAT_HOURS: OpeningHours = {
    1: [(dt.time(8), dt.time(20))],
    2: [(dt.time(8), dt.time(20))],
    3: [(dt.time(8), dt.time(20))],
    4: [(dt.time(8), dt.time(20))],
    5: [(dt.time(8), dt.time(20))],
    6: [(dt.time(8), dt.time(12))],
}


class SmsBackend(StrEnum):
    """Where outgoing SMS go: printed (development default) or through Twilio."""

    CONSOLE = "console"
    TWILIO = "twilio"


class SmsReplyMode(StrEnum):
    """Whether patients can answer our SMS.

    French A2P traffic usually goes out under an alphanumeric sender ID, which
    cannot receive replies: then "Répondez ANNULER" must not be printed and the
    signed cancellation link is the only way to cancel.
    """

    REPLY_CAPABLE = "reply_capable"
    ALPHANUMERIC = "alphanumeric"


class TelephonySettings(BaseModel):
    """Everything the telephony package needs (the app's section ``settings.telephony``)."""

    sms_backend: SmsBackend = SmsBackend.CONSOLE

    twilio_account_sid: str = ""
    twilio_auth_token: SecretStr = SecretStr("")
    #: A Twilio number (reply-capable) or an alphanumeric sender ID ("CPTSBIEVRE").
    twilio_from: str = ""
    #: Used instead of ``twilio_from`` when set (Twilio picks the sender from the pool).
    twilio_messaging_service_sid: str = ""
    #: Tests and the benchmark point this at the fake Twilio on 127.0.0.1.
    twilio_api_base_url: str = "https://api.twilio.com"
    #: Seconds to open the connection / to wait for each read from Twilio.
    twilio_connect_timeout: float = Field(default=5.0, gt=0)
    twilio_read_timeout: float = Field(default=10.0, gt=0)
    #: Blocking Twilio calls run in a dedicated thread pool of this size.
    twilio_max_concurrency: int = Field(default=8, ge=1, le=64)

    #: The URL Twilio calls and signs: webhook signatures are checked against it.
    #: In the app, filled from the root ``PUBLIC_BASE_URL`` (as are ``cpts_name`` and
    #: ``timezone``): declared once there, never read from the environment here.
    public_base_url: str = "http://127.0.0.1:8000"
    #: Behind a proxy that sets X-Forwarded-Proto/Host, rebuild the signed URL from them.
    trust_forwarded_headers: bool = False
    #: Development only: accept unsigned webhooks with the console backend.
    webhook_signature_check: bool = True

    cpts_name: str = "CPTS de la Bièvre"
    #: Shown in cancellation notices so patients can call back; optional.
    secretariat_phone: str = ""
    timezone: str = "Europe/Paris"

    sms_reply_mode: SmsReplyMode = SmsReplyMode.ALPHANUMERIC
    #: Put a signed cancellation link in confirmations, whatever the sender.
    sms_cancel_link: bool = True
    #: Secret for cancellation links; the app falls back to its SECRET_KEY when empty.
    cancel_link_secret: SecretStr = SecretStr("")
    #: Path of the cancellation page; the token is appended.
    cancel_link_path: str = "/a/"
    #: Twilio's Advanced Opt-Out answers STOP itself on reply-capable numbers; only
    #: send our own STOP confirmation when that is switched off.
    sms_stop_reply: bool = False

    reminder_evening_before: bool = True
    reminder_evening_time: dt.time = dt.time(18, 0)
    #: Hours before the appointment for the second reminder; 0 disables it.
    reminder_hours_before: float = Field(default=2.0, ge=0)
    #: A reminder found due later than this (worker down) is dropped rather than sent late.
    reminder_max_delay_minutes: int = Field(default=120, ge=1)

    secretariat_hours: OpeningHours = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_SECRETARIAT_HOURS.items()}
    )
    #: Closed on French public holidays (``holidays.France``).
    closed_on_public_holidays: bool = True

    voice_language: str = "fr-FR"
    #: A Twilio-supported voice for fr-FR (Amazon Polly "Léa").
    voice_name: str = "Polly.Lea"
    voice_queue_name: str = "secretariat"
    #: Let a caller press 1 to leave a call-back request (in and out of hours).
    voice_callback_option: bool = True
    voice_gather_timeout: int = Field(default=4, ge=1, le=30)

    @field_validator("secretariat_hours")
    @classmethod
    def _check_hours(cls, value: OpeningHours) -> OpeningHours:
        for day, ranges in value.items():
            if not 1 <= day <= 7:
                raise ValueError(f"jour ISO invalide: {day}")
            for start, end in ranges:
                if start >= end:
                    raise ValueError(f"plage horaire vide le jour {day}: {start}-{end}")
        return value

    @field_validator("public_base_url", "twilio_api_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _refuse_no_way_to_cancel(self) -> TelephonySettings:
        if self.sms_reply_mode is SmsReplyMode.ALPHANUMERIC and not self.sms_cancel_link:
            raise ValueError(
                "avec un expéditeur alphanumérique, SMS_CANCEL_LINK doit rester activé: "
                "c'est le seul moyen d'annuler"
            )
        return self

    @model_validator(mode="after")
    def _refuse_incomplete_twilio(self) -> TelephonySettings:
        # An empty token would make every webhook signature "valid" for whoever
        # computes it with the empty key; refuse to start rather than run open.
        if self.sms_backend is SmsBackend.TWILIO:
            if not self.twilio_auth_token.get_secret_value():
                raise ValueError("TWILIO_AUTH_TOKEN est obligatoire avec SMS_BACKEND=twilio")
            if not self.twilio_account_sid:
                raise ValueError("TWILIO_ACCOUNT_SID est obligatoire avec SMS_BACKEND=twilio")
            if not (self.twilio_from or self.twilio_messaging_service_sid):
                raise ValueError(
                    "TWILIO_FROM ou TWILIO_MESSAGING_SERVICE_SID est obligatoire "
                    "avec SMS_BACKEND=twilio"
                )
            if not self.webhook_signature_check:
                raise ValueError(
                    "WEBHOOK_SIGNATURE_CHECK=false n'est permis qu'avec SMS_BACKEND=console"
                )
        return self

    @cached_property
    def tz(self) -> ZoneInfo:
        """The platform's time zone (Europe/Paris)."""
        return ZoneInfo(self.timezone)

    @property
    def reply_capable(self) -> bool:
        """True when patients can answer our SMS (cancel by replying ANNULER)."""
        return self.sms_reply_mode is SmsReplyMode.REPLY_CAPABLE
