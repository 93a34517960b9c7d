"""Console backend, the development default: SMS are printed and kept in memory.

It behaves like a provider that always accepts, so the whole flow (outbox, status,
texts) can be exercised without an account. Webhook signatures are still checked
with the configured auth token; accepting unsigned webhooks needs an explicit
``webhook_signature_check=False``.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import threading
import uuid
from dataclasses import dataclass
from typing import TextIO

from telephony.base import SendResult, WebhookParams
from telephony.webhooks import check_signature

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ConsoleMessage:
    """One SMS the console backend "sent"."""

    sid: str
    to: str
    body: str
    idempotency_key: str
    status_callback: str | None
    created_at: dt.datetime


def mask_number(number: str) -> str:
    """Keep only the last two digits of a phone number for logs."""
    return "•" * max(len(number) - 2, 0) + number[-2:]


class ConsoleProvider:
    """Prints SMS to a stream and records them; never fails."""

    name = "console"

    def __init__(
        self,
        *,
        auth_token: str = "",
        accept_unsigned_webhooks: bool = False,
        stream: TextIO | None = None,
    ) -> None:
        self._auth_token = auth_token
        self._accept_unsigned = accept_unsigned_webhooks
        self._stream = stream
        self._lock = threading.Lock()
        #: Every message handed to ``send_sms``, in order (tests read it).
        self.sent: list[ConsoleMessage] = []

    async def send_sms(
        self,
        to: str,
        body: str,
        *,
        idempotency_key: str,
        status_callback: str | None = None,
    ) -> SendResult:
        """Record and print the SMS; answer like Twilio with a fresh ``SM…`` sid."""
        message = ConsoleMessage(
            sid="SM" + uuid.uuid4().hex,
            to=to,
            body=body,
            idempotency_key=idempotency_key,
            status_callback=status_callback,
            created_at=dt.datetime.now(dt.UTC),
        )
        with self._lock:
            self.sent.append(message)
        stream = self._stream or sys.stdout
        print(f"[SMS → {to}] {body}", file=stream, flush=True)
        logger.info("console SMS %s to %s", message.sid, mask_number(to))
        return SendResult(sid=message.sid, status="queued")

    async def find_messages(self, *, to: str, body: str, since: dt.datetime) -> list[SendResult]:
        """Messages recorded for ``to`` with this body since ``since``, newest first."""
        with self._lock:
            found = [
                m for m in self.sent if m.to == to and m.body == body and m.created_at >= since
            ]
        return [SendResult(sid=m.sid, status="queued") for m in reversed(found)]

    def validate_webhook(self, url: str, params: WebhookParams, signature: str | None) -> bool:
        """Check the signature if a token is configured; accept all only when told to."""
        if self._auth_token and signature:
            return check_signature(self._auth_token, url, params, signature)
        return self._accept_unsigned

    def messages_to(self, to: str) -> list[ConsoleMessage]:
        """The messages sent to one number, oldest first."""
        with self._lock:
            return [m for m in self.sent if m.to == to]

    async def aclose(self) -> None:
        """Nothing to release."""
