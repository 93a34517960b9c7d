"""Build webhook requests signed exactly as Twilio signs them (its own RequestValidator).

For the app's route tests as much as ours: post ``webhook.params`` as a form with
``webhook.headers`` to the path of ``webhook.url``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


@dataclass(frozen=True)
class SignedWebhook:
    """A webhook as Twilio would send it: public URL, form fields, headers."""

    url: str
    params: dict[str, str]
    headers: dict[str, str]

    @property
    def path(self) -> str:
        """Path and query, for an ASGI test client talking to the app directly."""
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    @property
    def signature(self) -> str:
        return self.headers[SIGNATURE_HEADER]


def sign(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """Twilio's signature (HMAC-SHA1, base64) of ``url`` and ``params``."""
    return str(RequestValidator(auth_token).compute_signature(url, dict(params)))


def signed_webhook(auth_token: str, url: str, params: Mapping[str, str]) -> SignedWebhook:
    """A webhook to ``url`` with ``params``, carrying a valid X-Twilio-Signature."""
    return SignedWebhook(
        url=url,
        params=dict(params),
        headers={
            SIGNATURE_HEADER: sign(auth_token, url, params),
            "Content-Type": "application/x-www-form-urlencoded",
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
        },
    )


def incoming_sms_params(
    *,
    from_: str,
    body: str,
    to: str = "+33700000001",
    account_sid: str = "AC" + "f" * 32,
    message_sid: str | None = None,
) -> dict[str, str]:
    """The form fields of Twilio's incoming-SMS webhook."""
    sid = message_sid or "SM" + uuid.uuid4().hex
    return {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "AccountSid": account_sid,
        "From": from_,
        "To": to,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
        "FromCountry": "FR",
        "ToCountry": "FR",
    }


def incoming_call_params(
    *,
    from_: str,
    to: str = "+33100000000",
    account_sid: str = "AC" + "f" * 32,
    call_sid: str | None = None,
    call_status: str = "ringing",
    digits: str | None = None,
    call_duration: int | None = None,
) -> dict[str, str]:
    """The form fields of Twilio's voice webhooks (incoming call, Gather, status)."""
    params = {
        "CallSid": call_sid or "CA" + uuid.uuid4().hex,
        "AccountSid": account_sid,
        "From": from_,
        "To": to,
        "CallStatus": call_status,
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
        "Caller": from_,
        "Called": to,
        "FromCountry": "FR",
        "ToCountry": "FR",
    }
    if digits is not None:
        params["Digits"] = digits
    if call_duration is not None:
        params["CallDuration"] = str(call_duration)
    return params
