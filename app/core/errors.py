"""Domain errors carry their HTTP status and a French message for people."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every business-rule failure; routers never build HTTP errors themselves."""

    status_code = 400
    code = "domain_error"
    default_message = "La demande ne peut pas être traitée."

    def __init__(self, message: str | None = None, *, field: str | None = None, **extra: Any):
        self.message = message or self.default_message
        self.field = field
        self.extra = extra
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        body.update(self.extra)
        return body


class NotFound(DomainError):
    status_code = 404
    code = "not_found"
    default_message = "Ressource introuvable."


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
    default_message = "Conflit avec l'état actuel."


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"
    default_message = "Vous n'avez pas les droits pour cette action."


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"
    default_message = "Authentification requise."


class InvalidInput(DomainError):
    """A value that parses but that the domain refuses (NIR key, RPPS format, dates…)."""

    status_code = 422
    code = "invalid_input"
    default_message = "Donnée invalide."


class ServiceUnavailable(DomainError):
    """The database cannot be reached (restarted, network cut, pool exhausted): 503, and the
    next request tries again on a fresh connection (no restart of the app needed)."""

    status_code = 503
    code = "service_unavailable"
    default_message = (
        "Service momentanément indisponible (base de données injoignable) : "
        "réessayez dans quelques instants. Rien n'a été enregistré pour cette demande."
    )
