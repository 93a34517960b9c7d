"""Webhook signatures: rebuild the exact URL Twilio called, then check its HMAC.

Twilio signs the public URL it requested (scheme, host, path, query) plus the
POSTed form fields. Behind a TLS-terminating proxy the app sees
``http://10.0.0.5:8000/telephony/sms``, so the URL must be rebuilt from
``PUBLIC_BASE_URL`` (or, when allowed, from ``X-Forwarded-Proto``/``Host``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from twilio.request_validator import RequestValidator

from telephony.base import WebhookParams
from telephony.config import TelephonySettings

SIGNATURE_HEADER = "X-Twilio-Signature"


class _MultiParams:
    """A read-only multi-dict with ``getlist``, the shape RequestValidator understands."""

    def __init__(self, params: WebhookParams) -> None:
        self._values: dict[str, list[str]] = {}
        items: Iterable[tuple[str, Any]]
        if hasattr(params, "multi_items"):
            items = params.multi_items()
        elif isinstance(params, Mapping):
            items = params.items()
        else:
            items = params
        for key, value in items:
            values = value if isinstance(value, list | tuple) else [value]
            self._values.setdefault(str(key), []).extend(str(v) for v in values)

    def __iter__(self) -> Any:
        return iter(self._values)

    def __bool__(self) -> bool:
        return bool(self._values)

    def getlist(self, key: str) -> list[str]:
        return self._values[key]


def public_url(
    settings: TelephonySettings,
    path: str,
    query: str = "",
    headers: Mapping[str, str] | None = None,
) -> str:
    """The URL Twilio requested, as it signed it.

    ``path`` is the request path as the app sees it (``/telephony/sms``); any path
    prefix in ``PUBLIC_BASE_URL`` (a proxy mount point) is kept in front of it.
    Forwarded headers are honoured only with ``trust_forwarded_headers``, since
    anyone can send them when the app is reachable without the proxy.
    """
    base = settings.public_base_url
    if settings.trust_forwarded_headers and headers is not None:
        lowered = {k.lower(): v for k, v in headers.items()}
        proto = lowered.get("x-forwarded-proto", "").split(",")[0].strip()
        host = lowered.get("x-forwarded-host", "").split(",")[0].strip()
        if proto or host:
            scheme, _, rest = base.partition("://")
            base_host, slash, prefix = rest.partition("/")
            base = f"{proto or scheme}://{host or base_host}{slash}{prefix}".rstrip("/")
    url = base + (path if path.startswith("/") else "/" + path)
    return f"{url}?{query}" if query else url


def check_signature(
    auth_token: str, url: str, params: WebhookParams, signature: str | None
) -> bool:
    """Twilio's own check (HMAC-SHA1 of URL + sorted params); refuses an empty secret."""
    if not auth_token or not signature:
        return False
    validator = RequestValidator(auth_token)
    return bool(validator.validate(url, _MultiParams(params), signature))


def compute_signature(auth_token: str, url: str, params: WebhookParams) -> str:
    """Sign a webhook exactly as Twilio does (tests and the fake use it)."""
    return str(RequestValidator(auth_token).compute_signature(url, _MultiParams(params)))


class _Verifier(Protocol):
    def validate_webhook(
        self, url: str, params: WebhookParams, signature: str | None
    ) -> bool: ...


def is_genuine(
    provider: _Verifier,
    settings: TelephonySettings,
    *,
    path: str,
    query: str,
    headers: Mapping[str, str],
    params: WebhookParams,
) -> bool:
    """Whether an incoming webhook request really comes from Twilio (the app answers 403 if not).

    One call for the app's dependency: rebuilds the public URL, reads
    ``X-Twilio-Signature`` (any case) and asks the provider.
    """
    signature = next(
        (v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), None
    )
    url = public_url(settings, path, query, headers)
    return provider.validate_webhook(url, params, signature)
