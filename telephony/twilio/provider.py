"""Twilio provider: the official SDK, run off the event loop, errors sorted for the outbox.

Why threads rather than the SDK's ``AsyncTwilioHttpClient``: the async client
needs an aiohttp session bound to a running loop (created in its constructor,
closed by hand) and adds its own retry layer; the requests-based client is the
SDK's reference path. Each ``send_sms`` runs the blocking call in a dedicated,
bounded thread pool (``TWILIO_MAX_CONCURRENCY``), so a slow Twilio can neither
block the loop nor starve ``asyncio.to_thread`` users elsewhere in the app. The
connect/read time-outs bound how long a thread can be held.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from telephony.base import (
    PermanentSendError,
    SendResult,
    TransientSendError,
    WebhookParams,
)
from telephony.config import TelephonySettings
from telephony.console import mask_number
from telephony.twilio.http import BaseUrlHttpClient
from telephony.webhooks import check_signature

logger = logging.getLogger(__name__)

#: Authentication failures: our configuration is wrong, not the message. Keep the
#: message queued (transient) so nothing is lost while someone fixes the token.
_CONFIGURATION_CODES = frozenset({20003, 20005, 20404})


class TwilioProvider:
    """Sends SMS through Twilio's REST API and checks Twilio webhook signatures."""

    name = "twilio"

    def __init__(self, settings: TelephonySettings) -> None:
        token = settings.twilio_auth_token.get_secret_value()
        if not token:
            raise ValueError("TWILIO_AUTH_TOKEN est vide: le fournisseur Twilio refuse de démarrer")
        if not settings.twilio_account_sid:
            raise ValueError("TWILIO_ACCOUNT_SID est vide")
        self._account_sid = settings.twilio_account_sid
        self._auth_token = token
        self._from = settings.twilio_from
        self._messaging_service_sid = settings.twilio_messaging_service_sid
        if not (self._from or self._messaging_service_sid):
            raise ValueError("TWILIO_FROM ou TWILIO_MESSAGING_SERVICE_SID est obligatoire")
        self.http_client = BaseUrlHttpClient(
            base_url=settings.twilio_api_base_url,
            connect_timeout=settings.twilio_connect_timeout,
            read_timeout=settings.twilio_read_timeout,
            pool_size=settings.twilio_max_concurrency,
        )
        # A non-empty ``environment`` keeps the SDK from reading os.environ
        # (TWILIO_EDGE / TWILIO_REGION would rewrite the host behind our back).
        self.client = Client(
            self._account_sid,
            token,
            http_client=self.http_client,
            environment={"TWILIO_EDGE": "", "TWILIO_REGION": ""},
        )
        self._executor = ThreadPoolExecutor(
            max_workers=settings.twilio_max_concurrency, thread_name_prefix="twilio-send"
        )

    async def send_sms(
        self,
        to: str,
        body: str,
        *,
        idempotency_key: str,
        status_callback: str | None = None,
    ) -> SendResult:
        """Create the Message at Twilio without blocking the event loop."""
        loop = asyncio.get_running_loop()
        call = functools.partial(self._send_blocking, to, body, idempotency_key, status_callback)
        return await loop.run_in_executor(self._executor, call)

    def send_sms_blocking(
        self,
        to: str,
        body: str,
        *,
        idempotency_key: str,
        status_callback: str | None = None,
    ) -> SendResult:
        """The same call for synchronous callers (scripts, a CLI)."""
        return self._send_blocking(to, body, idempotency_key, status_callback)

    def _send_blocking(
        self, to: str, body: str, idempotency_key: str, status_callback: str | None
    ) -> SendResult:
        kwargs: dict[str, Any] = {"to": to, "body": body}
        if self._messaging_service_sid:
            kwargs["messaging_service_sid"] = self._messaging_service_sid
        if self._from:
            kwargs["from_"] = self._from
        if status_callback:
            kwargs["status_callback"] = status_callback
        self.http_client.set_idempotency_key(idempotency_key)
        try:
            message = self.client.messages.create(**kwargs)
        except requests.exceptions.ConnectTimeout as exc:
            raise TransientSendError("Twilio injoignable (connexion)") from exc
        except requests.exceptions.ConnectionError as exc:
            # Raised for refused connections and for connections dropped mid-answer;
            # only the first is certain not to have reached Twilio.
            ambiguous = not _is_connect_failure(exc)
            raise TransientSendError("Twilio injoignable", ambiguous=ambiguous) from exc
        except requests.exceptions.Timeout as exc:
            raise TransientSendError("Twilio n'a pas répondu à temps", ambiguous=True) from exc
        except requests.exceptions.RequestException as exc:
            raise TransientSendError("erreur réseau vers Twilio", ambiguous=True) from exc
        except TwilioException as exc:
            raise _classify(exc) from exc
        finally:
            self.http_client.set_idempotency_key(None)
        logger.info("Twilio accepted SMS %s to %s", message.sid, mask_number(to))
        error_code = message.error_code
        return SendResult(
            sid=str(message.sid),
            status=str(message.status),
            error_code=int(error_code) if error_code else None,
        )

    async def find_messages(self, *, to: str, body: str, since: dt.datetime) -> list[SendResult]:
        """Recent Messages to ``to`` with this exact body created since ``since``, newest first.

        Twilio lists a number's messages newest first; a look at the last few is
        enough, since it is asked only right after an attempt of unknown outcome.
        Errors count as "unknown" and raise :class:`TransientSendError` (the
        caller must not send blindly then).
        """
        loop = asyncio.get_running_loop()
        call = functools.partial(self._find_blocking, to, body, since)
        return await loop.run_in_executor(self._executor, call)

    def _find_blocking(self, to: str, body: str, since: dt.datetime) -> list[SendResult]:
        try:
            messages = self.client.messages.list(to=to, limit=20)
        except (requests.exceptions.RequestException, TwilioException) as exc:
            raise TransientSendError(
                "impossible de vérifier chez Twilio si le SMS est déjà parti", ambiguous=True
            ) from exc
        found = []
        for message in messages:
            created = message.date_created
            if message.body != body or (created is not None and created < since):
                continue
            found.append(SendResult(sid=str(message.sid), status=str(message.status)))
        return found

    def validate_webhook(self, url: str, params: WebhookParams, signature: str | None) -> bool:
        """Twilio's RequestValidator on the public URL; missing signature → False."""
        return check_signature(self._auth_token, url, params, signature)

    async def aclose(self) -> None:
        """Stop the send threads and close pooled connections."""
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.http_client.close()


def _is_connect_failure(exc: requests.exceptions.ConnectionError) -> bool:
    reason = exc.args[0] if exc.args else None
    text = repr(reason)
    return "NewConnectionError" in text or "ConnectionRefused" in text


def _classify(exc: TwilioException) -> TransientSendError | PermanentSendError:
    """Sort a Twilio API error into retry-later or give-up."""
    status: int | None = getattr(exc, "status", None)
    raw_code = getattr(exc, "code", None)
    code = raw_code if isinstance(raw_code, int) and raw_code != status else None
    text = str(getattr(exc, "msg", "") or getattr(exc, "title", "") or "erreur Twilio")
    if status is None:
        # The SDK could not read Twilio's answer: it may have created the message.
        return TransientSendError(text, code=code, ambiguous=True)
    if status == 429 or status >= 500:
        return TransientSendError(text, status=status, code=code)
    if status in (401, 403) or code in _CONFIGURATION_CODES:
        logger.error("Twilio refuse nos identifiants (HTTP %s, code %s)", status, code)
        return TransientSendError(text, status=status, code=code)
    # Any other 4xx (PERMANENT_ERROR_CODES and malformed requests alike): the
    # same request would be refused again.
    return PermanentSendError(text, status=status, code=code)
