"""HTML forms: read what was typed, validate with the domain's schemas, French messages by field."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from app.core.csrf import check_csrf
from app.core.errors import DomainError

M = TypeVar("M", bound=BaseModel)

_MESSAGES = {
    "missing": "Ce champ est obligatoire.",
    "string_too_short": "Ce champ est obligatoire.",
    "string_too_long": "Texte trop long.",
    "string_pattern_mismatch": "Format invalide.",
    "date_parsing": "Date invalide : utilisez le format jj/mm/aaaa.",
    "date_from_datetime_parsing": "Date invalide : utilisez le format jj/mm/aaaa.",
    "date_type": "Date invalide : utilisez le format jj/mm/aaaa.",
    "time_parsing": "Heure invalide : utilisez le format hh:mm.",
    "time_type": "Heure invalide : utilisez le format hh:mm.",
    "datetime_parsing": "Date et heure invalides.",
    "datetime_from_date_parsing": "Date et heure invalides.",
    "int_parsing": "Nombre entier attendu.",
    "int_type": "Nombre entier attendu.",
    "float_parsing": "Nombre attendu.",
    "greater_than_equal": "Valeur trop petite.",
    "less_than_equal": "Valeur trop grande.",
    "enum": "Choisissez une valeur de la liste.",
    "literal_error": "Choisissez une valeur de la liste.",
}


class FormErrors(dict[str, str]):
    """Field name → French message; "" holds a message for the whole form."""

    def add(self, field: str | None, message: str) -> None:
        self.setdefault(field or "", message)

    @property
    def general(self) -> str | None:
        return self.get("")


def message_for(error: ErrorDetails) -> str:
    if error["type"] == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "string_too_long":
        limit = (error.get("ctx") or {}).get("max_length")
        if limit:
            return f"Texte trop long ({limit} caractères au plus)."
    return _MESSAGES.get(error["type"], str(error["msg"]))


def validate(
    schema: type[M],
    data: dict[str, Any],
    errors: FormErrors,
    *,
    whole_form_field: str = "",
    aliases: dict[str, str] | None = None,
) -> M | None:
    """Build the schema from form data; on failure, put each message next to its field."""
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = [str(part) for part in error["loc"] if not isinstance(part, int)]
            field = loc[0] if loc else whole_form_field
            field = (aliases or {}).get(field, field)
            errors.add(field, message_for(error))
        return None


def domain_error(exc: DomainError, errors: FormErrors, *, default_field: str = "") -> None:
    errors.add(exc.field or default_field, exc.message)


async def read_form(request: Request) -> dict[str, Any]:
    """The submitted form (CSRF checked): single values as strings, repeated ones as lists."""
    form = await request.form()
    token = form.get("csrf_token")
    check_csrf(request, token if isinstance(token, str) else None)
    data: dict[str, Any] = {}
    for key in form:
        values = [v for v in form.getlist(key) if isinstance(v, str)]
        data[key] = (
            values if len(values) > 1 or key.endswith("[]") else (values[0] if values else "")
        )
    data.pop("csrf_token", None)
    return data


def text(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    return value.strip() if isinstance(value, str) else ""


def optional(data: dict[str, Any], key: str) -> str | None:
    return text(data, key) or None


def checked(data: dict[str, Any], key: str) -> bool:
    return text(data, key) in ("on", "1", "true", "oui")


def many(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key, [])
    if isinstance(value, str):
        return [value] if value else []
    return [v for v in value if v]


def parse_date(value: str | None) -> dt.date | None:
    """ISO (from <input type=date>) or French jj/mm/aaaa; None when unreadable."""
    value = (value or "").strip()
    if not value:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None
