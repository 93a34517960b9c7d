"""The provider interface the app talks to, and the errors that tell the outbox what to do.

``send_sms`` is a coroutine: the outbox worker runs on asyncio and must never block
the loop. Implementations that wrap a blocking SDK (Twilio's) run it in their own
thread pool. ``validate_webhook`` is a pure HMAC computation, so it stays sync.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

#: Twilio error codes after which sending the same message again cannot succeed.
#: 21211 invalid "To", 21214 "To" cannot be reached, 21408 region not enabled,
#: 21610 recipient replied STOP, 21612 cannot route, 21614 not a mobile number,
#: 21617 body too long, 30003 unreachable handset, 30004 blocked,
#: 30005 unknown destination, 30006 landline or unreachable carrier, 30007 filtered.
PERMANENT_ERROR_CODES: frozenset[int] = frozenset(
    {21211, 21214, 21408, 21610, 21612, 21614, 21617, 30003, 30004, 30005, 30006, 30007}
)

#: Twilio error code for a recipient who opted out (replied STOP).
OPTED_OUT_ERROR_CODE = 21610


def is_permanent_error_code(code: int | None) -> bool:
    """Whether a Twilio error code (API answer or delivery callback) forbids a retry."""
    return code is not None and code in PERMANENT_ERROR_CODES


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the provider answered when it accepted a message."""

    sid: str
    status: str
    error_code: int | None = None


class SendError(Exception):
    """A message was not accepted by the provider."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        ambiguous: bool = False,
    ) -> None:
        super().__init__(message)
        #: HTTP status of the provider's answer, if there was one.
        self.status = status
        #: Provider error code (Twilio's numeric code), if any.
        self.code = code
        #: True when the request may have reached the provider (read time-out,
        #: dropped connection): the message may exist even though we got no sid.
        self.ambiguous = ambiguous


class TransientSendError(SendError):
    """Try again later with back-off: 5xx, 429, time-out, network, provider misconfigured."""


class PermanentSendError(SendError):
    """Do not retry: the number is invalid, not a mobile, or opted out (STOP)."""


#: Webhook form fields as a mapping (single values or lists of values) or as
#: pairs, e.g. Starlette's ``FormData.multi_items()``.
WebhookParams = Mapping[str, Any] | Iterable[tuple[str, str]]


@runtime_checkable
class TelephonyProvider(Protocol):
    """Send SMS and check that a webhook really comes from the provider."""

    name: str

    async def send_sms(
        self,
        to: str,
        body: str,
        *,
        idempotency_key: str,
        status_callback: str | None = None,
    ) -> SendResult:
        """Hand one SMS to the provider; raise Transient/PermanentSendError if refused.

        ``idempotency_key`` identifies the message (one per appointment event) so a
        retry can be recognised; the durable outbox remains the guarantee.
        """
        ...

    async def find_messages(self, *, to: str, body: str, since: dt.datetime) -> list[SendResult]:
        """Messages already accepted for ``to`` with this exact ``body`` since ``since``.

        Asked before sending again after an attempt whose outcome is unknown (an
        ``ambiguous`` error, a worker killed mid-send), so the message is adopted
        rather than sent twice.
        """
        ...

    def validate_webhook(self, url: str, params: WebhookParams, signature: str | None) -> bool:
        """True if ``signature`` is the provider's signature of ``url`` and ``params``."""
        ...

    async def aclose(self) -> None:
        """Release connections and threads (called from the app's lifespan)."""
        ...
