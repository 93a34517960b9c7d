"""One error handler per surface: JSON API here (HTML and FHIR add theirs)."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from app.core.errors import DomainError

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
