"""The HTTP client under the official Twilio SDK: base URL, time-outs, pool, idempotency.

``twilio.rest.Client`` always builds ``https://api.twilio.com/...`` URLs; this
subclass of the SDK's own ``TwilioHttpClient`` rewrites that prefix to
``TWILIO_API_BASE_URL`` so the real client can talk to a local fake. It also
sends separate connect/read time-outs, sizes the connection pool to the worker
threads, and adds the message's idempotency key as a header.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from requests.adapters import HTTPAdapter
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

TWILIO_API_BASE_URL = "https://api.twilio.com"
#: Twilio documents this header on the webhooks it sends; REST creates are not
#: documented to de-duplicate on it. We send it so a retry is recognisable (the
#: fake Twilio records it); exactly-once delivery is the durable outbox's job.
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"

_logger = logging.getLogger("telephony.twilio.http")


class BaseUrlHttpClient(TwilioHttpClient):
    """A ``TwilioHttpClient`` that talks to ``base_url`` instead of api.twilio.com."""

    def __init__(
        self,
        *,
        base_url: str = TWILIO_API_BASE_URL,
        connect_timeout: float,
        read_timeout: float,
        pool_size: int,
    ) -> None:
        # The SDK's own retries stay off: retrying belongs to the outbox, which
        # knows the message and its back-off.
        super().__init__(pool_connections=True, timeout=read_timeout, logger=_logger)
        self.base_url = base_url.rstrip("/")
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        # requests accepts a (connect, read) pair; the SDK passes self.timeout on
        # untouched when a call gives none (it only compares explicit ones to 0).
        self.timeout = (connect_timeout, read_timeout)
        assert self.session is not None
        # Settings are passed in; proxies and .netrc from the environment are not.
        self.session.trust_env = False
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self._local = threading.local()

    def set_idempotency_key(self, key: str | None) -> None:
        """Header value for the requests made next by the current thread."""
        self._local.idempotency_key = key

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: Any = None,
        allow_redirects: bool = False,
    ) -> Response:
        """Send the SDK's request to our base URL, with the idempotency header."""
        if url.startswith(TWILIO_API_BASE_URL):
            url = self.base_url + url[len(TWILIO_API_BASE_URL) :]
        key = getattr(self._local, "idempotency_key", None)
        if key:
            headers = {**(headers or {}), IDEMPOTENCY_HEADER: key}
        return super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )

    def close(self) -> None:
        """Close pooled connections."""
        if self.session is not None:
            self.session.close()
