"""FHIR errors: every refusal on the /fhir surface is an OperationOutcome with its status."""

from __future__ import annotations

from typing import Any

# OperationOutcome.issue.code values we use (http://hl7.org/fhir/issue-type).
INVALID = "invalid"
REQUIRED = "required"
VALUE = "value"
NOT_SUPPORTED = "not-supported"
BUSINESS_RULE = "business-rule"
STRUCTURE = "structure"
NOT_FOUND = "not-found"
SECURITY = "security"
LOGIN = "login"
EXCEPTION = "exception"


def operation_outcome(
    diagnostics: str,
    *,
    code: str = INVALID,
    severity: str = "error",
    expression: str | None = None,
) -> dict[str, Any]:
    """An OperationOutcome with one issue; diagnostics are French, for the SAS operators."""
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


class FhirError(Exception):
    """A refusal that the FHIR router turns into ``status_code`` + :attr:`outcome`."""

    status_code = 400
    issue_code = INVALID

    def __init__(
        self,
        diagnostics: str,
        *,
        code: str | None = None,
        expression: str | None = None,
        status_code: int | None = None,
    ):
        super().__init__(diagnostics)
        self.diagnostics = diagnostics
        if code is not None:
            self.issue_code = code
        if status_code is not None:
            self.status_code = status_code
        self.expression = expression

    @property
    def outcome(self) -> dict[str, Any]:
        return operation_outcome(self.diagnostics, code=self.issue_code, expression=self.expression)


class SearchParamError(FhirError):
    """A malformed or incomplete search (INT_R04): 400."""

    status_code = 400


class InvalidResource(FhirError):
    """A body that is not JSON, not the expected resource, or not valid FHIR: 400."""

    status_code = 400
    issue_code = STRUCTURE


class ProfileViolation(FhirError):
    """A well-formed resource that breaks the SAS profile or a business rule: 422."""

    status_code = 422
    issue_code = BUSINESS_RULE


class Unauthenticated(FhirError):
    """No or wrong credentials on the SAS link (bearer token, client certificate): 401."""

    status_code = 401
    issue_code = LOGIN


class ResourceNotFound(FhirError):
    """An unknown resource or interaction: 404."""

    status_code = 404
    issue_code = NOT_FOUND
