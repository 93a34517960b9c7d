"""A fake SAS platform: a real HTTP server on 127.0.0.1 that records what it receives.

It answers INT_R03 pushes like the SAS would (``POST``/conditional ``PUT`` of Appointment)
and can be scripted to fail (``fail_next``), to hang until released (``hang_next``, for
client time-outs without sleeping) or to give any status (``respond_next``). It also holds
the SAS side of INT_R04/INT_R02: the requests the SAS sends to us, built from our own
fixtures in ``tests/data/sas`` (written to the guide, with fictitious people and ids).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES_DIR = Path(__file__).resolve().parents[1] / "data" / "sas"

# The INT_R04 example query of docs/sas-interface.md, verbatim (joined on one line).
EXAMPLE_SLOT_QUERY = (
    "_include=Slot:schedule&_include:iterate=Schedule:actor"
    "&_include=Slot:service-type-reference&_include:iterate=HealthcareService:organization"
    "&start=ge2024-06-12T16:20:00.000+02:00&start=le2024-06-15T16:20:00.000+02:00"
    "&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|810002909371,"
    "urn:oid:1.2.250.1.71.4.2.1|810001288385"
    "&status=free"
)
IDNPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"


def slot_search_params(
    identifiers: list[str], start_ge: str, start_le: str
) -> list[tuple[str, str]]:
    """The (key, value) pairs of an INT_R04 search as the SAS sends it."""
    return [
        ("_include", "Slot:schedule"),
        ("_include:iterate", "Schedule:actor"),
        ("_include", "Slot:service-type-reference"),
        ("_include:iterate", "HealthcareService:organization"),
        ("start", f"ge{start_ge}"),
        ("start", f"le{start_le}"),
        (
            "schedule.actor:Practitioner.identifier",
            ",".join(i if "|" in i else f"{IDNPS_SYSTEM}|{i}" for i in identifiers),
        ),
        ("status", "free"),
    ]


def load_fixture(name: str) -> dict[str, Any]:
    """A fresh copy of one of our SAS fixtures (e.g. ``regulator-national``)."""
    return json.loads((FIXTURES_DIR / f"{name}.json").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    raw_body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


@dataclass
class _Action:
    kind: str  # "status" | "hang"
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeSas:
    """Start with :meth:`start` (or use as a context manager); ``base_url`` ends in ``/fhir``."""

    HANG_LIMIT_S = 30.0  # a hung handler never outlives a test by more than this

    def __init__(self, *, expected_token: str | None = None):
        self.expected_token = expected_token
        self.requests: list[RecordedRequest] = []
        # identifier "system|value" -> every version received, in order of arrival
        self.appointments: dict[str, list[dict[str, Any]]] = {}
        self._script: deque[_Action] = deque()
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> FakeSas:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeSas:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "FakeSas not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/fhir"

    # -- scripting ---------------------------------------------------------------------
    def fail_next(self, count: int = 1, *, status: int = 500, body: Any = None) -> None:
        """Answer ``status`` (500 by default) to the next ``count`` requests."""
        self.respond_next(status, body=body, count=count)

    def respond_next(
        self,
        status: int,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        count: int = 1,
    ) -> None:
        with self._lock:
            for _ in range(count):
                self._script.append(_Action("status", status, body, dict(headers or {})))

    def hang_next(self, count: int = 1) -> None:
        """Block the next ``count`` requests until :meth:`release` (then answer 503)."""
        self._release.clear()
        with self._lock:
            for _ in range(count):
                self._script.append(_Action("hang", 503))

    def release(self) -> None:
        self._release.set()

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until ``count`` requests were received (for tests driving a worker)."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.requests) >= count, timeout=timeout)
            return list(self.requests)

    # -- called by the handler ---------------------------------------------------------
    def _record(self, request: RecordedRequest) -> _Action | None:
        with self._arrived:
            self.requests.append(request)
            self._arrived.notify_all()
            return self._script.popleft() if self._script else None

    def _store(self, identifier: str, body: dict[str, Any]) -> tuple[int, str]:
        with self._lock:
            versions = self.appointments.setdefault(identifier, [])
            created = not versions
            versions.append(body)
            number = list(self.appointments).index(identifier) + 1
        return (201 if created else 200), f"{self.base_url}/Appointment/{number}"


def _outcome(status: int, message: str) -> dict[str, Any]:
    code = "exception" if status >= 500 else "invalid"
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": message}],
    }


class _Handler(BaseHTTPRequestHandler):
    owner: FakeSas
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: the tests read ``FakeSas.requests`` instead."""

    def _handle(self) -> None:
        fake = self.owner
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        request = RecordedRequest(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=dict(self.headers.items()),
            body=body,
            raw_body=raw,
        )
        action = fake._record(request)
        if action is not None and action.kind == "hang":
            fake._release.wait(timeout=fake.HANG_LIMIT_S)
            self._reply(503, _outcome(503, "libéré après blocage"))
            return
        if action is not None:
            self._reply(
                action.status,
                action.body if action.body is not None else _outcome(action.status, "scripté"),
                action.headers,
            )
            return
        if fake.expected_token and self.headers.get("Authorization") != (
            f"Bearer {fake.expected_token}"
        ):
            self._reply(401, _outcome(401, "authentification requise"))
            return
        self._default(request)

    def _default(self, request: RecordedRequest) -> None:
        body = request.body
        if request.path != "/fhir/Appointment" or request.method not in ("POST", "PUT"):
            self._reply(404, _outcome(404, "ressource inconnue"))
            return
        if not isinstance(body, dict) or body.get("resourceType") != "Appointment":
            self._reply(400, _outcome(400, "Appointment attendu"))
            return
        identifiers = body.get("identifier") or [{}]
        token = f"{identifiers[0].get('system')}|{identifiers[0].get('value')}"
        if request.method == "PUT" and request.query.get("identifier") != [token]:
            self._reply(400, _outcome(400, "identifier de l'URL différent de la ressource"))
            return
        status, location = self.owner._store(token, body)
        self._reply(status, {**body, "id": location.rsplit("/", 1)[1]}, {"Location": location})

    def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (time-out test): nothing to answer to

    do_POST = _handle
    do_PUT = _handle
    do_GET = _handle
    do_DELETE = _handle
