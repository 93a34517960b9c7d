"""The ``/fhir`` surface the SAS calls: INT_R04 slot search, INT_R02 regulator accounts.

Every call needs the ``SAS_API_TOKEN`` bearer token (no token configured: everything is
refused) and, when ``SAS_TRUSTED_PROXY`` is set, must come from that proxy with the
verified client-certificate subject it adds. Every refusal is an OperationOutcome.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.accounts.models import User
from app.core.clock import NowDep
from app.core.db import SessionDep
from app.core.errors import DomainError
from app.core.handlers import hand_on, validation_errors
from app.sas import service as sas_service
from app.sas import slots as slots_service
from app.sas.config import SasSettings
from app.sas.mapping import build_capability_statement, build_slot_bundle
from app.sas.outcome import (
    BUSINESS_RULE,
    EXCEPTION,
    INVALID,
    LOGIN,
    NOT_FOUND,
    NOT_SUPPORTED,
    SECURITY,
    FhirError,
    ResourceNotFound,
    SearchParamError,
    Unauthenticated,
    operation_outcome,
)
from app.sas.profiles import (
    FHIR_JSON,
    FHIR_JSON_MEDIA_TYPES,
    PROFILE_REGULATOR,
    SYSTEM_IDNPS,
    SYSTEM_SAS,
    TYPE_SYSTEM_V2_0203,
)
from app.sas.regulators import parse_identifier_param, parse_regulator
from app.sas.search_params import SlotSearch, parse_slot_search

# A search wider than this is refused (the SAS asks for a few days at a time).
MAX_SEARCH_DAYS = 31


class FhirResponse(JSONResponse):
    media_type = FHIR_JSON

    def render(self, content: Any) -> bytes:
        # A week of 25 agendas is megabytes of JSON: orjson encodes it several times faster.
        return orjson.dumps(content)


def is_fhir_path(request: Request) -> bool:
    path = request.url.path
    return path == "/fhir" or path.startswith("/fhir/")


def fhir_base_url(request: Request) -> str:
    return f"{request.app.state.settings.public_base_url.rstrip('/')}/fhir"


def outcome_response(
    status_code: int, diagnostics: str, *, code: str = INVALID, expression: str | None = None
) -> FhirResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="sas"'} if status_code == 401 else None
    return FhirResponse(
        operation_outcome(diagnostics, code=code, expression=expression),
        status_code=status_code,
        headers=headers,
    )


async def authenticate_sas(request: Request) -> str | None:
    """The SAS's credentials: bearer token, and the mTLS subject passed by our proxy."""
    settings: SasSettings = request.app.state.sas_settings
    expected = settings.sas_api_token.get_secret_value()
    if not expected:
        raise Unauthenticated("Interface SAS fermée : aucun jeton (SAS_API_TOKEN) n'est configuré.")
    scheme, _, supplied = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(
        supplied.strip().encode(), expected.encode()
    ):
        raise Unauthenticated("Jeton d'accès absent ou invalide.")
    proxies = settings.trusted_proxies
    if not proxies:
        return None  # no proxy configured (development): the subject header is ignored
    host = request.client.host if request.client else None
    subject = request.headers.get(settings.sas_client_subject_header, "").strip()
    if host not in proxies or not subject:
        # Only our proxy may vouch for a client certificate; anything else is unverified.
        raise Unauthenticated(
            "Certificat client non vérifié : passez par le point d'accès TLS mutuel.",
            code=SECURITY,
        )
    request.state.sas_client_subject = subject
    return subject


fhir_router = APIRouter(
    prefix="/fhir", tags=["sas"], dependencies=[Depends(authenticate_sas)], include_in_schema=True
)


async def _body(request: Request) -> bytes:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in FHIR_JSON_MEDIA_TYPES:
        raise FhirError(
            f"Type de contenu non pris en charge : {media_type or 'absent'} "
            f"(attendu : {FHIR_JSON}).",
            code=NOT_SUPPORTED,
            status_code=415,
        )
    return await request.body()


def _bounded(search: SlotSearch) -> SlotSearch:
    if search.start_le - search.start_ge > dt.timedelta(days=MAX_SEARCH_DAYS):
        raise SearchParamError(
            f"Recherche trop large : {MAX_SEARCH_DAYS} jours au plus entre les bornes de start.",
            code="too-costly",
            expression="start",
        )
    if search.start_le.year >= 9999:
        raise SearchParamError("Borne haute de start hors limites.", expression="start")
    return search


@fhir_router.get("/metadata", response_class=FhirResponse)
async def metadata(request: Request, now: NowDep) -> Any:
    return FhirResponse(
        build_capability_statement(
            base_url=fhir_base_url(request),
            software_version=request.app.version,
            date=now.date(),
        )
    )


@fhir_router.get("/Slot", response_class=FhirResponse)
async def search_slots(request: Request, session: SessionDep, now: NowDep) -> Any:
    """INT_R04: the free SNP slots of 1 to 25 GPs between two instants."""
    search = _bounded(parse_slot_search(request.query_params.multi_items()))
    state = request.app.state
    sas_settings: SasSettings = state.sas_settings
    slots, practitioners = await slots_service.search(
        session=session,
        search=search,
        now=now,
        public_base_url=state.settings.public_base_url,
        cache=state.sas_home_visit_windows if sas_settings.sas_home_visits else None,
        state=state,
    )
    bundle = build_slot_bundle(
        slots=slots,
        practitioners=practitioners,
        cpts=state.sas_cpts,
        base_url=fhir_base_url(request),
        self_url=str(request.url),
        includes=search.includes,
    )
    return FhirResponse(bundle)


def regulator_resource(user: User) -> dict[str, Any]:
    """The regulator's account as we hold it (the answer to INT_R02)."""
    identifiers = []
    for system, value, code in (
        (SYSTEM_IDNPS, user.national_id, "IDNPS"),
        (SYSTEM_SAS, user.sas_technical_id, "INTRN"),
    ):
        if value:
            identifiers.append(
                {
                    "type": {"coding": [{"system": TYPE_SYSTEM_V2_0203, "code": code}]},
                    "system": system,
                    "value": value,
                }
            )
    resource: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": str(user.id),
        "meta": {"source": SYSTEM_SAS, "profile": [PROFILE_REGULATOR]},
        "identifier": identifiers,
        "active": user.active,
    }
    if user.full_name:
        resource["name"] = [{"text": user.full_name}]
    if user.email:
        resource["telecom"] = [{"system": "email", "value": user.email}]
    return resource


def _account_response(request: Request, user: User, created: bool) -> FhirResponse:
    location = f"{fhir_base_url(request)}/Practitioner/{user.id}"
    return FhirResponse(
        regulator_resource(user),
        status_code=201 if created else 200,
        headers={"Location": location},
    )


@fhir_router.post("/Practitioner", response_class=FhirResponse, status_code=201)
async def create_regulator(request: Request, session: SessionDep) -> Any:
    """INT_R02 create (201); the same account sent again is updated (200)."""
    account = parse_regulator(await _body(request))
    user, created = await sas_service.upsert_regulator(session=session, account=account)
    return _account_response(request, user, created)


@fhir_router.put("/Practitioner", response_class=FhirResponse)
async def update_regulator(request: Request, session: SessionDep) -> Any:
    """INT_R02 conditional update (200), creating the account when unknown (201)."""
    match = parse_identifier_param(request.query_params.get("identifier"))
    account = parse_regulator(await _body(request))
    user, created = await sas_service.upsert_regulator(
        session=session, account=account, match=match
    )
    return _account_response(request, user, created)


@fhir_router.get("/Practitioner/{user_id}", response_class=FhirResponse)
async def read_regulator(user_id: str, session: SessionDep) -> Any:
    if not user_id.isdigit() or len(user_id) > 12:
        raise ResourceNotFound(f"Practitioner/{user_id} inconnu.")
    user = await sas_service.get_regulator(session=session, user_id=int(user_id))
    return FhirResponse(regulator_resource(user))


_DOMAIN_CODES = {401: LOGIN, 403: SECURITY, 404: NOT_FOUND, 409: BUSINESS_RULE, 422: BUSINESS_RULE}


def install_fhir_handlers(app: FastAPI) -> None:
    """OperationOutcome for every error on /fhir; the other surfaces keep their handlers."""
    previous_domain = app.exception_handlers.get(DomainError)
    previous_validation = app.exception_handlers.get(RequestValidationError)
    previous_http = app.exception_handlers.get(StarletteHTTPException)

    async def fhir_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, FhirError)
        response = FhirResponse(exc.outcome, status_code=exc.status_code)
        if exc.status_code == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="sas"'
        return response

    async def domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        if is_fhir_path(request):
            status = exc.status_code if 400 <= exc.status_code < 600 else 400
            return outcome_response(status, exc.message, code=_DOMAIN_CODES.get(status, INVALID))
        assert previous_domain is not None
        return await hand_on(previous_domain, request, exc)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if is_fhir_path(request):
            summary = " ; ".join(
                f"{e['field']} : {e['message']}" if e["field"] else e["message"]
                for e in validation_errors(exc)
            )
            return outcome_response(400, f"Requête invalide — {summary}")
        assert previous_validation is not None
        return await hand_on(previous_validation, request, exc)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if is_fhir_path(request):
            # No catch-all route: other domains may serve /fhir/... paths of their own.
            code = {404: NOT_FOUND, 405: NOT_SUPPORTED}.get(exc.status_code, EXCEPTION)
            diagnostics = {
                404: f"Ressource ou interaction non prise en charge : {request.url.path}.",
                405: f"Méthode {request.method} non prise en charge sur {request.url.path}.",
            }.get(exc.status_code, str(exc.detail))
            return outcome_response(exc.status_code, diagnostics, code=code)
        assert previous_http is not None
        return await hand_on(previous_http, request, exc)

    app.add_exception_handler(FhirError, fhir_error)
    if previous_domain is not None:
        app.add_exception_handler(DomainError, domain_error)
    if previous_validation is not None:
        app.add_exception_handler(RequestValidationError, validation_error)
    if previous_http is not None:
        app.add_exception_handler(StarletteHTTPException, http_error)
