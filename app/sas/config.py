"""Settings of the SAS link and of the CPTS identity published to the SAS.

Built explicitly (``SasSettings()``) by the app factory; nothing is read at import time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.sas.profiles import FINESS_DIGITS_RE, PHONE_RE


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


class SasSettings(BaseSettings):
    """The SAS link (both directions) and the CPTS identity; environment overrides."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

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
