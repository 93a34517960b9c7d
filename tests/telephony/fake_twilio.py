"""A fake Twilio REST API on 127.0.0.1: a real HTTP server for our real Twilio client.

It speaks the part of the API we use — ``POST .../Messages.json`` (form-encoded,
HTTP basic auth) and ``GET .../Messages/{sid}.json`` — with Twilio-shaped JSON and
errors, records every request and every message it accepted, and can be scripted
to fail the next calls: 500, 429, a permanent error code, or a hang (before or
after the message is accepted) held until :meth:`FakeTwilio.release`.

Synchronise with :meth:`wait_for_requests` / :meth:`wait_until_hanging`, never
with sleeps. Usable from any test package or benchmark::

    with FakeTwilio() as fake:
        settings = TelephonySettings(**fake.settings_overrides())
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import socket
import threading
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from email.utils import formatdate
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from telephony.twilio.http import IDEMPOTENCY_HEADER

from .signing import SignedWebhook, signed_webhook

API_VERSION = "2010-04-01"
_MESSAGES = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/Messages\.json$")
_MESSAGE = re.compile(
    rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/Messages/(?P<sid>[^/]+)\.json$"
)
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")


class Failure(StrEnum):
    """What the fake does instead of answering normally."""

    SERVER_ERROR = "server_error"  # 500, message not created
    RATE_LIMITED = "rate_limited"  # 429 (code 20429), message not created
    PERMANENT = "permanent"  # 400 with a Twilio code (21211 by default)
    HANG = "hang"  # holds the request, message not created
    HANG_AFTER_ACCEPT = "hang_after_accept"  # creates the message, then holds the answer


@dataclass
class _Scripted:
    kind: Failure
    code: int | None = None


@dataclass(frozen=True)
class FakeMessage:
    """A message the fake accepted (created), as Twilio would have stored it."""

    sid: str
    account_sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    status_callback: str | None
    idempotency_token: str | None
    status: str = "queued"
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


@dataclass
class RecordedRequest:
    """One HTTP request the fake received, with what it answered."""

    method: str
    path: str
    form: dict[str, list[str]]
    headers: dict[str, str]
    authenticated: bool
    answer_status: int | None = None
    failure: Failure | None = None

    def value(self, name: str) -> str | None:
        values = self.form.get(name)
        return values[0] if values else None


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Condition = field(init=False)
    requests: list[RecordedRequest] = field(default_factory=list)
    messages: list[FakeMessage] = field(default_factory=list)
    script: deque[_Scripted] = field(default_factory=deque)
    hangs: list[threading.Event] = field(default_factory=list)
    hanging: int = 0

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)


def _twilio_error(status: int, code: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


_PERMANENT_MESSAGES = {
    21211: "Invalid 'To' Phone Number",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
}


class FakeTwilio:
    """The fake server; start it (or use it as a context manager) before use."""

    def __init__(
        self,
        *,
        account_sid: str = "AC" + "f" * 32,
        auth_token: str = "fake-twilio-auth-token",
        hang_timeout: float = 30.0,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        #: Upper bound of a hang if a test forgets to release it.
        self.hang_timeout = hang_timeout
        self._state = _State()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> FakeTwilio:
        """Listen on 127.0.0.1 on a free port, serving from a background thread."""
        handler = type("_BoundHandler", (_Handler,), {"fake": self})
        server = _Server(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        # Keep-alive connections of the client would make a blocking close wait.
        server.block_on_close = False
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},  # quick shutdown between tests
            name="fake-twilio",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release any hang and shut the server down."""
        self.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``, to use as TWILIO_API_BASE_URL."""
        assert self._server is not None, "FakeTwilio not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def settings_overrides(self, **extra: Any) -> dict[str, Any]:
        """Keyword arguments for ``TelephonySettings`` pointing our client at this fake."""
        values: dict[str, Any] = {
            "sms_backend": "twilio",
            "twilio_account_sid": self.account_sid,
            "twilio_auth_token": self.auth_token,
            "twilio_from": "+33700000001",
            "twilio_api_base_url": self.base_url,
        }
        values.update(extra)
        return values

    # -- scripting -------------------------------------------------------------

    def fail_next(self, kind: Failure | str, times: int = 1, *, code: int | None = None) -> None:
        """Make the next ``times`` message creations fail in the given way."""
        with self._state.lock:
            for _ in range(times):
                self._state.script.append(_Scripted(Failure(kind), code))

    def release(self) -> None:
        """Let every hanging request finish (their clients have usually given up)."""
        with self._state.lock:
            hangs, self._state.hangs = self._state.hangs, []
        for event in hangs:
            event.set()

    def reset(self) -> None:
        """Forget requests, messages and the script (between benchmark rounds)."""
        self.release()
        with self._state.lock:
            self._state.requests.clear()
            self._state.messages.clear()
            self._state.script.clear()

    # -- observation -----------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    @property
    def messages(self) -> list[FakeMessage]:
        """Messages accepted (created), in order."""
        with self._state.lock:
            return list(self._state.messages)

    def message(self, sid: str) -> FakeMessage:
        with self._state.lock:
            return next(m for m in self._state.messages if m.sid == sid)

    def counts_by_body(self) -> Counter[str]:
        """How many times each body was accepted (exactly-once checks)."""
        return Counter(m.body for m in self.messages)

    def counts_by_idempotency_token(self) -> Counter[str | None]:
        """How many times each idempotency key was accepted (exactly-once checks)."""
        return Counter(m.idempotency_token for m in self.messages)

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> bool:
        """Block until at least ``count`` requests arrived (False on time-out)."""
        with self._state.changed:
            return self._state.changed.wait_for(lambda: len(self._state.requests) >= count, timeout)

    def wait_until_hanging(self, count: int = 1, timeout: float = 5.0) -> bool:
        """Block until ``count`` requests are being held by a hang."""
        with self._state.changed:
            return self._state.changed.wait_for(lambda: self._state.hanging >= count, timeout)

    def status_callback(
        self,
        sid: str,
        status: str,
        *,
        error_code: int | None = None,
    ) -> SignedWebhook:
        """The signed delivery-status webhook Twilio would POST for message ``sid``."""
        message = self.message(sid)
        if not message.status_callback:
            raise ValueError(f"message {sid} has no StatusCallback")
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": message.account_sid,
            "From": message.from_ or "",
            "To": message.to,
            "MessageStatus": status,
            "SmsStatus": status,
            "ApiVersion": API_VERSION,
        }
        if message.messaging_service_sid:
            params["MessagingServiceSid"] = message.messaging_service_sid
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        return signed_webhook(self.auth_token, message.status_callback, params)

    # -- request handling (server threads) ---------------------------------------

    def _record(self, request: RecordedRequest) -> _Scripted | None:
        with self._state.changed:
            self._state.requests.append(request)
            scripted = self._state.script.popleft() if self._state.script else None
            self._state.changed.notify_all()
            return scripted

    def _accept(self, request: RecordedRequest, account: str) -> FakeMessage:
        message = FakeMessage(
            sid="SM" + uuid.uuid4().hex,
            account_sid=account,
            to=request.value("To") or "",
            from_=request.value("From"),
            messaging_service_sid=request.value("MessagingServiceSid"),
            body=request.value("Body") or "",
            status_callback=request.value("StatusCallback"),
            idempotency_token=request.headers.get(IDEMPOTENCY_HEADER.lower()),
        )
        with self._state.changed:
            self._state.messages.append(message)
            self._state.changed.notify_all()
        return message

    def _hang(self) -> None:
        event = threading.Event()
        with self._state.changed:
            self._state.hangs.append(event)
            self._state.hanging += 1
            self._state.changed.notify_all()
        try:
            event.wait(self.hang_timeout)
        finally:
            with self._state.changed:
                self._state.hanging -= 1
                self._state.changed.notify_all()

    def _create_message(
        self, request: RecordedRequest, account: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        scripted = self._record(request)
        if not request.authenticated:
            return 401, _twilio_error(401, 20003, "Authenticate"), {}
        if account != self.account_sid:
            return 404, _twilio_error(404, 20404, "The requested resource was not found"), {}
        if scripted is not None:
            request.failure = scripted.kind
            if scripted.kind is Failure.SERVER_ERROR:
                return 500, _twilio_error(500, 20500, "An internal server error has occurred"), {}
            if scripted.kind is Failure.RATE_LIMITED:
                return 429, _twilio_error(429, 20429, "Too Many Requests"), {"Retry-After": "1"}
            if scripted.kind is Failure.PERMANENT:
                code = scripted.code or 21211
                text = _PERMANENT_MESSAGES.get(code, "Unable to create record")
                return 400, _twilio_error(400, code, text), {}
            if scripted.kind is Failure.HANG:
                self._hang()
                return 503, _twilio_error(503, 20503, "Service Unavailable"), {}
        to = request.value("To") or ""
        if not _E164.match(to):
            return 400, _twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}"), {}
        if not (request.value("From") or request.value("MessagingServiceSid")):
            return 400, _twilio_error(400, 21603, "A 'From' phone number is required."), {}
        if not request.value("Body"):
            return 400, _twilio_error(400, 21602, "Message body is required."), {}
        message = self._accept(request, account)
        if scripted is not None and scripted.kind is Failure.HANG_AFTER_ACCEPT:
            self._hang()
        return 201, _message_json(message), {}

    def _fetch_message(
        self, request: RecordedRequest, account: str, sid: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        self._record_only(request)
        if not request.authenticated:
            return 401, _twilio_error(401, 20003, "Authenticate"), {}
        with self._state.lock:
            found = [m for m in self._state.messages if m.sid == sid and m.account_sid == account]
        if not found:
            return 404, _twilio_error(404, 20404, "The requested resource was not found"), {}
        return 200, _message_json(found[0]), {}

    def _list_messages(
        self, request: RecordedRequest, account: str, query: dict[str, list[str]]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """``GET .../Messages.json?To=…&PageSize=…``: newest first, one page."""
        self._record_only(request)
        if not request.authenticated:
            return 401, _twilio_error(401, 20003, "Authenticate"), {}
        to = (query.get("To") or [None])[0]
        size = int((query.get("PageSize") or ["50"])[0])
        with self._state.lock:
            found = [
                m
                for m in reversed(self._state.messages)
                if m.account_sid == account and (to is None or m.to == to)
            ][:size]
        uri = f"/{API_VERSION}/Accounts/{account}/Messages.json"
        return (
            200,
            {
                "messages": [_message_json(m) for m in found],
                "end": max(len(found) - 1, 0),
                "first_page_uri": uri,
                "next_page_uri": None,
                "page": 0,
                "page_size": size,
                "previous_page_uri": None,
                "start": 0,
                "uri": uri,
            },
            {},
        )

    def _record_only(self, request: RecordedRequest) -> None:
        with self._state.changed:
            self._state.requests.append(request)
            self._state.changed.notify_all()

    def _check_auth(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return decoded == f"{self.account_sid}:{self.auth_token}"


def _message_json(message: FakeMessage) -> dict[str, Any]:
    now = formatdate(message.created_at.timestamp(), usegmt=True)
    uri = f"/{API_VERSION}/Accounts/{message.account_sid}/Messages/{message.sid}.json"
    return {
        "account_sid": message.account_sid,
        "api_version": API_VERSION,
        "body": message.body,
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": message.from_,
        "messaging_service_sid": message.messaging_service_sid,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": message.sid,
        "status": message.status,
        "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
        "to": message.to,
        "uri": uri,
    }


class _Server(ThreadingHTTPServer):
    """A listen backlog like a real API's: 40 concurrent sends must not meet the
    standard library's default of 5 (refused connections on a loaded machine)."""

    request_queue_size = 128


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like api.twilio.com
    fake: FakeTwilio

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without TCP_NODELAY, Nagle and
        # the client's delayed ACK add ~40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read the recorded requests instead."""

    def _read_form(self) -> dict[str, list[str]]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        return parse_qs(raw, keep_blank_values=True)

    def _recorded(self, form: dict[str, list[str]]) -> RecordedRequest:
        return RecordedRequest(
            method=self.command,
            path=urlsplit(self.path).path,
            form=form,
            headers={k.lower(): v for k, v in self.headers.items()},
            authenticated=self.fake._check_auth(self.headers.get("Authorization")),
        )

    def _answer(
        self,
        request: RecordedRequest | None,
        status: int,
        payload: dict[str, Any],
        headers: dict[str, str],
    ) -> None:
        if request is not None:
            request.answer_status = status
        body = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (time-out) while we were hanging.
            self.close_connection = True

    def do_POST(self) -> None:
        form = self._read_form()
        match = _MESSAGES.match(urlsplit(self.path).path)
        if match is None:
            self._answer(None, 404, _twilio_error(404, 20404, "Not found"), {})
            return
        request = self._recorded(form)
        status, payload, headers = self.fake._create_message(request, match["account"])
        self._answer(request, status, payload, headers)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        listing = _MESSAGES.match(parts.path)
        if listing is not None:
            request = self._recorded({})
            status, payload, headers = self.fake._list_messages(
                request, listing["account"], parse_qs(parts.query)
            )
            self._answer(request, status, payload, headers)
            return
        match = _MESSAGE.match(parts.path)
        if match is None:
            self._answer(None, 404, _twilio_error(404, 20404, "Not found"), {})
            return
        request = self._recorded({})
        status, payload, headers = self.fake._fetch_message(request, match["account"], match["sid"])
        self._answer(request, status, payload, headers)
