"""Telephony for Premier Recours: SMS and the public line, behind a small provider interface.

The app builds one provider from :class:`TelephonySettings` with
:func:`build_provider` (console by default, Twilio in production) and keeps it
on ``app.state``; texts, voice answers, inbound classification and
cancellation links are pure functions beside it.
"""

from __future__ import annotations

from telephony.base import (
    PERMANENT_ERROR_CODES,
    PermanentSendError,
    SendError,
    SendResult,
    TelephonyProvider,
    TransientSendError,
    is_permanent_error_code,
)
from telephony.config import SmsBackend, SmsReplyMode, TelephonySettings
from telephony.console import ConsoleProvider
from telephony.inbound import InboundIntent, classify
from telephony.links import (
    CancelLinkClaim,
    CancelLinkSigner,
    ExpiredCancelLink,
    ForgedCancelLink,
    InvalidCancelLink,
    cancel_url,
)
from telephony.webhooks import SIGNATURE_HEADER, is_genuine, public_url

__all__ = [
    "PERMANENT_ERROR_CODES",
    "SIGNATURE_HEADER",
    "CancelLinkClaim",
    "CancelLinkSigner",
    "ConsoleProvider",
    "ExpiredCancelLink",
    "ForgedCancelLink",
    "InboundIntent",
    "InvalidCancelLink",
    "PermanentSendError",
    "SendError",
    "SendResult",
    "SmsBackend",
    "SmsReplyMode",
    "TelephonyProvider",
    "TelephonySettings",
    "TransientSendError",
    "build_provider",
    "cancel_url",
    "classify",
    "is_genuine",
    "is_permanent_error_code",
    "public_url",
]


def build_provider(settings: TelephonySettings) -> TelephonyProvider:
    """The provider the settings ask for; Twilio refuses to start without its token."""
    if settings.sms_backend is SmsBackend.TWILIO:
        # Imported here so the console default does not load the Twilio SDK's REST tree.
        from telephony.twilio import TwilioProvider

        return TwilioProvider(settings)
    return ConsoleProvider(
        auth_token=settings.twilio_auth_token.get_secret_value(),
        accept_unsigned_webhooks=not settings.webhook_signature_check,
    )
