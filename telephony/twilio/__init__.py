"""Twilio implementation of the telephony provider (official ``twilio`` SDK)."""

from telephony.twilio.http import IDEMPOTENCY_HEADER, BaseUrlHttpClient
from telephony.twilio.provider import TwilioProvider

__all__ = ["IDEMPOTENCY_HEADER", "BaseUrlHttpClient", "TwilioProvider"]
