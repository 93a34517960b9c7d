"""INT_R03 transport: push an appointment to the SAS platform (httpx, async).

One call = one HTTP request. No retries here: the durable outbox retries with back-off, so
the client only tells it whether a failure is worth retrying (:class:`TransientPushError`)
or needs a person (:class:`PermanentPushError`).
"""

from __future__ import annotations

import json
import logging
import ssl
from dataclasses import dataclass
from typing import Any

import httpx

from app.sas.appointments import build_appointment
from app.sas.config import SasSettings
from app.sas.profiles import FHIR_JSON
from app.sas.views import AppointmentView

logger = logging.getLogger(__name__)

_RETRYABLE_STATUSES = frozenset({408, 425, 429})


class PushError(Exception):
    """A push that did not succeed; ``reason`` is shown to the coordinator (French)."""

    def __init__(
        self,
        reason: str,
        *,
        status_code: int | None = None,
        body: str | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code
        self.body = body
        self.retry_after = retry_after


class TransientPushError(PushError):
    """Worth retrying later: SAS unavailable (5xx, 429), time-out, connection failure."""


class PermanentPushError(PushError):
    """Retrying the same request will not help (4xx): a person must look at it."""


@dataclass(frozen=True, slots=True)
class PushResult:
    method: str
    status_code: int
    location: str | None


def _diagnostics(response: httpx.Response) -> str:
    """The SAS's OperationOutcome diagnostics if any, else the start of the body."""
    text = response.text[:2000]
    try:
        data = json.loads(text)
    except ValueError:
        return text[:300]
    if isinstance(data, dict) and data.get("resourceType") == "OperationOutcome":
        parts = [
            str(i.get("diagnostics") or i.get("details", {}).get("text") or i.get("code"))
            for i in data.get("issue") or []
            if isinstance(i, dict)
        ]
        return " | ".join(parts)[:300]
    return text[:300]


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


class SasClient:
    """Outbound SAS client, built once by the app factory and closed in its lifespan."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str | None = None,
        timeout: httpx.Timeout | float = httpx.Timeout(15.0, connect=5.0),
        ssl_context: ssl.SSLContext | None = None,
        fhir_base_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        if not base_url:
            raise ValueError("SAS_BASE_URL n'est pas configurée : pas d'envoi possible au SAS")
        self.base_url = base_url.rstrip("/")
        self.fhir_base_url = fhir_base_url
        headers = {"Accept": FHIR_JSON, "Content-Type": f"{FHIR_JSON}; charset=utf-8"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.AsyncClient(
            headers=headers,
            timeout=timeout,
            verify=ssl_context if ssl_context is not None else True,
            transport=transport,
            follow_redirects=False,
        )

    @classmethod
    def from_settings(
        cls,
        settings: SasSettings,
        *,
        fhir_base_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> SasClient:
        """Bearer token and/or mTLS (IGC-Santé certificate) as configured."""
        context: ssl.SSLContext | None = None
        if settings.sas_client_cert or settings.sas_ca_bundle:
            context = ssl.create_default_context(cafile=settings.sas_ca_bundle)
            if settings.sas_client_cert:
                context.load_cert_chain(settings.sas_client_cert, settings.sas_client_key)
        return cls(
            base_url=settings.sas_base_url,
            token=settings.sas_push_token.get_secret_value() or None,
            timeout=httpx.Timeout(settings.sas_timeout, connect=settings.sas_connect_timeout),
            ssl_context=context,
            fhir_base_url=fhir_base_url,
            transport=transport,
        )

    async def __aenter__(self) -> SasClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def push_appointment(self, view: AppointmentView, *, first: bool) -> PushResult:
        """POST the first version of an appointment, conditionally PUT every later one.

        The POST carries ``If-None-Exist`` so that a retry after a lost answer does not
        create a second appointment on a server that honours conditional create.
        """
        resource = build_appointment(view, fhir_base_url=self.fhir_base_url)
        token = view.conditional_query()
        url = f"{self.base_url}/Appointment"
        method = "POST" if first else "PUT"
        kwargs: dict[str, Any] = {"content": json.dumps(resource, ensure_ascii=False).encode()}
        if first:
            kwargs["headers"] = {"If-None-Exist": f"identifier={token}"}
        else:
            kwargs["params"] = {"identifier": token}
        try:
            response = await self._http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise TransientPushError(f"SAS : délai dépassé ({type(exc).__name__})") from exc
        except httpx.UnsupportedProtocol as exc:
            raise PermanentPushError(f"SAS : URL invalide ({exc})") from exc
        except httpx.TransportError as exc:
            raise TransientPushError(f"SAS injoignable ({type(exc).__name__}: {exc})") from exc

        status = response.status_code
        if 200 <= status < 300:
            logger.info("SAS %s Appointment %s -> %s", method, view.identifier_value, status)
            return PushResult(method, status, response.headers.get("Location"))
        detail = _diagnostics(response)
        error = (
            TransientPushError
            if status >= 500 or status in _RETRYABLE_STATUSES
            else PermanentPushError
        )
        raise error(
            f"SAS a répondu {status} à {method} Appointment : {detail}".rstrip(" :"),
            status_code=status,
            body=response.text[:2000],
            retry_after=_retry_after(response),
        )
