"""The sections of the root settings: one pydantic model per domain (no environment here).

Only :class:`app.core.config.Settings` reads the environment; it fills these sections
(``settings.rounds``, ``settings.sas``, ``settings.orientation``; ``settings.telephony`` is
:class:`telephony.TelephonySettings`) and hands them to the domains. They live in
``app.core`` so that the root settings import no domain package.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator

#: The SAS formats the CPTS identity must meet (re-exported by ``app.sas.profiles``).
FINESS_DIGITS_RE = re.compile(r"^[0-9]{9}$")
PHONE_RE = re.compile(r"^\+33[0-9]{9}$")


def normalise_phone(value: str) -> str:
    """A French phone number in the ``+33XXXXXXXXX`` form the SAS profiles require."""
    compact = re.sub(r"[\s.\-()]", "", value)
    if compact.startswith("0033"):
        compact = "+33" + compact[4:]
    elif re.fullmatch(r"0[1-9][0-9]{8}", compact):
        compact = "+33" + compact[1:]
    if not PHONE_RE.fullmatch(compact):
        raise ValueError(f"numéro de téléphone non conforme (+33XXXXXXXXX attendu) : {value!r}")
    return compact


@dataclass(frozen=True, slots=True)
class CptsIdentity:
    """The CPTS as the SAS sees it: the Organization that provides the SNP service."""

    name: str
    finess: str
    phone: str
    address_line: str | None = None
    city: str | None = None
    postal_code: str | None = None

    def __post_init__(self) -> None:
        if not FINESS_DIGITS_RE.fullmatch(self.finess):
            # The guide's FINESS-invariant (^1[0-9]{9}$) rules out the Corsican 2A/2B forms.
            raise ValueError(f"FINESS de la CPTS non conforme (9 chiffres) : {self.finess!r}")
        if not PHONE_RE.fullmatch(self.phone):
            raise ValueError(f"téléphone de la CPTS non conforme : {self.phone!r}")

    @property
    def idnst(self) -> str:
        """The structure's national id: ``1`` + FINESS."""
        return "1" + self.finess

    @property
    def organization_id(self) -> str:
        return f"cpts-{self.finess}"

    @property
    def healthcare_service_id(self) -> str:
        return f"cpts-{self.finess}-snp"


class RoundsSettings(BaseModel):
    """Solver and routing knobs (section ``settings.rounds``)."""

    # Empty: offline haversine travel times. Set: an OSRM server's /table service.
    osrm_url: str = ""
    osrm_timeout_s: float = Field(default=2.0, gt=0)
    osrm_cache_size: int = Field(default=256, ge=1)
    circuity: float = Field(default=1.35, ge=1.0)
    speed_kmh: float = Field(default=22.0, gt=0)
    # A full optimisation (coordinator, worker) and a re-plan inside a request.
    rounds_time_limit_s: float = Field(default=5.0, gt=0)
    rounds_replan_time_limit_s: float = Field(default=1.0, gt=0)
    rounds_seed: int = 0
    # Threads for solver runs, kept off the event loop.
    rounds_workers: int = Field(default=1, ge=1)
    # A second search (from another first solution) in a worker process, side by
    # side with the first; the cheaper plan wins. It uses a second core: switch it
    # off on a one-core host.
    rounds_parallel_search: bool = True
    # Extra seconds granted to a solver thread beyond its own time limit.
    rounds_timeout_grace_s: float = Field(default=10.0, gt=0)
    # Proposals: days searched when a request has no deadline, and the shortest notice
    # before a new home visit can start today.
    proposal_days_without_deadline: int = Field(default=2, ge=1, le=14)
    proposal_lead_minutes: int = Field(default=30, ge=0)
    # The morning round of home visits (triage promises a visit on it; app/core/calendar.py).
    round_starts: dt.time = dt.time(10, 0)
    round_ends: dt.time = dt.time(13, 0)
    # The worker optimises today's and tomorrow's rounds up to this local time.
    optimise_before: dt.time = dt.time(10, 0)
    # A booking only inserts into the round in force; the worker re-plans the morning
    # once no booking of that day came for this many seconds (several bookings, one run).
    rounds_replan_debounce_s: float = Field(default=5.0, ge=0)
    # How long options shown to a caller stay held for them (others get other options).
    proposal_hold_seconds: int = Field(default=180, ge=0)


class SasSettings(BaseModel):
    """The SAS link (both directions) and the CPTS identity (section ``settings.sas``)."""

    #: Filled from the root ``CPTS_NAME`` (one declaration, shared with the SMS texts).
    cpts_name: str = "CPTS de la Bièvre"
    # Fictitious but well-formed: department 00 does not exist.
    cpts_finess: str = "000000000"
    cpts_phone: str = "+33100000000"
    cpts_address_line: str | None = None
    cpts_city: str | None = None
    cpts_postal_code: str | None = None

    # Inbound (SAS -> us): without a token every /fhir call is refused (401).
    sas_api_token: SecretStr = SecretStr("")
    # Address(es) of the reverse proxy that terminates mTLS and passes the verified subject
    # (comma-separated). Set: every /fhir call must come through it with that header.
    sas_trusted_proxy: str | None = None
    sas_client_subject_header: str = "X-SSL-Client-S-DN"

    # Outbound (us -> SAS, INT_R03). Empty base URL: pushes are not sent.
    sas_base_url: str = ""
    sas_push_token: SecretStr = SecretStr("")
    sas_client_cert: str | None = None  # PEM certificate (IGC-Santé) for mTLS
    sas_client_key: str | None = None
    sas_ca_bundle: str | None = None
    sas_connect_timeout: float = Field(default=5.0, gt=0)
    sas_timeout: float = Field(default=15.0, gt=0)
    # Our own system for Appointment.identifier: an OID or a URL we control. The default
    # is a deliberate placeholder (.invalid); set SAS_APPOINTMENT_SYSTEM in production.
    sas_appointment_system: str = "https://premier-recours.invalid/fhir/sid/appointment"

    # INT_R04: home-visit (HH) slots where the rounds can absorb one more visit. The
    # solver's answer is cached per day for this long (and dropped on home-visit events).
    sas_home_visits: bool = True
    sas_home_visit_cache_seconds: float = Field(default=300.0, ge=0)
    # Refuse, on every path, a booking by a regulator that did not come through the SAS
    # booking page (origin=sas session): a second lock behind the staff-only API routes.
    sas_regulator_bookings_only_from_sas: bool = True

    @field_validator("cpts_phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return normalise_phone(value)

    @field_validator("cpts_finess")
    @classmethod
    def _finess(cls, value: str) -> str:
        value = value.strip()
        if not FINESS_DIGITS_RE.fullmatch(value):
            raise ValueError("CPTS_FINESS doit comporter 9 chiffres (format exigé par le SAS)")
        return value

    @field_validator("sas_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def trusted_proxies(self) -> frozenset[str]:
        """The proxy addresses whose client-certificate header the app believes."""
        return frozenset(
            part.strip() for part in (self.sas_trusted_proxy or "").split(",") if part.strip()
        )

    def cpts_identity(self) -> CptsIdentity:
        """The CPTS identity to publish in INT_R04 bundles."""
        return CptsIdentity(
            name=self.cpts_name,
            finess=self.cpts_finess,
            phone=self.cpts_phone,
            address_line=self.cpts_address_line,
            city=self.cpts_city,
            postal_code=self.cpts_postal_code,
        )


class OrientationSettings(BaseModel):
    """How GPs are told that a patient chose them; how far a practice may be proposed.

    Section ``settings.orientation``; its variables carry the ``ORIENTATION_`` prefix.
    """

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
