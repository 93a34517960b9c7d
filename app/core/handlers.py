"""One error handler per surface: JSON API here (HTML and FHIR add theirs)."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.errors import Conflict, DomainError, InvalidInput

_FRENCH = {
    "missing": "Champ obligatoire.",
    "date_parsing": "Date invalide (format attendu : AAAA-MM-JJ).",
    "date_from_datetime_parsing": "Date invalide (format attendu : AAAA-MM-JJ).",
    "date_from_datetime_inexact": "Date invalide (format attendu : AAAA-MM-JJ).",
    "date_type": "Date invalide (format attendu : AAAA-MM-JJ).",
    "datetime_parsing": "Date et heure invalides (format attendu : AAAA-MM-JJTHH:MM).",
    "datetime_from_date_parsing": "Date et heure invalides (format attendu : AAAA-MM-JJTHH:MM).",
    "datetime_type": "Date et heure invalides (format attendu : AAAA-MM-JJTHH:MM).",
    "time_parsing": "Heure invalide (format attendu : HH:MM).",
    "time_type": "Heure invalide (format attendu : HH:MM).",
    "string_pattern_mismatch": "Format invalide.",
    "string_too_short": "Ce champ ne peut pas être vide.",
    "string_too_long": "Texte trop long.",
    "string_type": "Texte attendu.",
    "int_parsing": "Nombre entier attendu.",
    "int_type": "Nombre entier attendu.",
    "int_from_float": "Nombre entier attendu.",
    "float_parsing": "Nombre attendu.",
    "float_type": "Nombre attendu.",
    "bool_parsing": "Valeur oui/non attendue.",
    "bool_type": "Valeur oui/non attendue.",
    "greater_than_equal": "Valeur trop petite.",
    "greater_than": "Valeur trop petite.",
    "less_than_equal": "Valeur trop grande.",
    "less_than": "Valeur trop grande.",
    "list_type": "Liste attendue.",
    "json_invalid": "Corps de requête JSON invalide.",
    "model_attributes_type": "Objet attendu.",
    "dict_type": "Objet attendu.",
}


def french_message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "value_error":
        message = str(error.get("msg", ""))
        return message.removeprefix("Value error, ")
    if kind == "enum":
        expected = (error.get("ctx") or {}).get("expected", "")
        return f"Valeur non reconnue (valeurs possibles : {expected})."
    if kind == "literal_error":
        expected = (error.get("ctx") or {}).get("expected", "")
        return f"Valeur non reconnue (valeurs possibles : {expected})."
    return _FRENCH.get(kind, "Valeur invalide.")


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
        out.append(
            {
                "field": ".".join(loc) or None,
                "message": french_message(error),
                "type": error.get("type"),
            }
        )
    return out


Handler = Callable[[Request, Exception], Response | Awaitable[Response]]


async def hand_on(handler: Handler, request: Request, exc: Exception) -> Response:
    """Answer with a handler found in ``app.exception_handlers``, sync or async alike."""
    response = handler(request, exc)
    return await response if inspect.isawaitable(response) else response


def install_json_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(exc.to_dict(), status_code=exc.status_code, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = _HTTP_FRENCH.get(exc.status_code, str(exc.detail))
        return JSONResponse(
            {"code": "http_error", "message": message},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc)
        summary = " ; ".join(
            f"{e['field']} : {e['message']}" if e["field"] else e["message"] for e in errors
        )
        return JSONResponse(
            {
                "code": "invalid_input",
                "message": f"Données invalides — {summary}",
                "errors": errors,
            },
            status_code=422,
        )


_HTTP_FRENCH = {
    400: "Corps de requête illisible (JSON ou formulaire invalide).",
    404: "Adresse inconnue.",
    405: "Méthode non autorisée sur cette adresse.",
    413: "Requête trop volumineuse.",
    415: "Type de contenu non pris en charge.",
}
OUT_OF_RANGE = "Valeur hors des limites acceptées (nombre trop grand ou date hors calendrier)."
NUL_CHARACTER = "Caractère nul (\\0) interdit dans un texte."


def _database_refusal(exc: DBAPIError) -> DomainError | None:
    """A French refusal for a value the database rejected, or None (not the input's fault).

    The exception's text carries the statement and its parameters (patient data): it is
    never logged or echoed; only the driver's error class, SQLSTATE and constraint are read.
    """
    orig = exc.orig
    cause = orig.__cause__ if orig is not None else None
    kinds = {type(e).__name__ for e in (orig, cause) if e is not None}
    detail = " ".join(str(e) for e in (orig, cause) if e is not None)
    sqlstate = str(getattr(orig, "sqlstate", None) or getattr(cause, "sqlstate", None) or "")
    if isinstance(exc, IntegrityError):
        if any("Unique" in k for k in kinds) or sqlstate == "23505" or "UNIQUE" in detail:
            nir = "nir" in detail.lower()
            message = "Un patient avec ce NIR existe déjà." if nir else None
            return Conflict(message or "Cette donnée existe déjà (doublon).", code="duplicate")
        return InvalidInput(
            "Donnée incohérente : une référence n'existe pas ou un champ obligatoire manque."
        )
    if sqlstate == "22021" or "0x00" in detail:
        return InvalidInput(NUL_CHARACTER)
    # SQLSTATE class 22 (data exception) on the server; asyncpg's own DataError when a
    # value does not fit the column's type before it is even sent (int4, int8).
    if sqlstate.startswith("22") or "DataError" in kinds or isinstance(exc, DataError):
        return InvalidInput(OUT_OF_RANGE)
    return None


def install_refusal_handlers(app: FastAPI) -> None:
    """Inputs the validation layer let through but Python or the database refuse → 4xx.

    They are answered through the app's DomainError handler, so each surface (JSON API,
    HTML pages, FHIR OperationOutcome) words them its own way.
    """

    async def _as_domain(request: Request, error: DomainError) -> Response:
        return await hand_on(request.app.exception_handlers[DomainError], request, error)

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> Response:
        # Dates near year 1 or 9999 shifted by a time zone, integers beyond 64 bits (SQLite).
        return await _as_domain(request, InvalidInput(OUT_OF_RANGE))

    @app.exception_handler(StatementError)
    async def _database_error(request: Request, exc: StatementError) -> Response:
        # A value the driver could not even bind (a date or integer out of its range).
        refusal: DomainError | None = InvalidInput(OUT_OF_RANGE)
        if isinstance(exc, DBAPIError):
            refusal = _database_refusal(exc)
        elif not isinstance(exc.orig, OverflowError):
            refusal = None
        if refusal is None:
            raise exc  # not the input's fault (connection lost…): the server's error
        return await _as_domain(request, refusal)
