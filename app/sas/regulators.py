"""INT_R02: read the regulator accounts the SAS creates and updates (FrPractitionerRegul).

400 when the body is not a FHIR Practitioner at all, 422 when it breaks the SAS profile
(no usable identifier, no ``active``, no e-mail).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from fhir.resources.R4B.practitioner import Practitioner

from app.sas.outcome import REQUIRED, VALUE, InvalidResource, ProfileViolation, SearchParamError
from app.sas.profiles import SYSTEM_IDNPS, SYSTEM_IDNST, SYSTEM_SAS
from app.sas.views import RegulatorAccountIn, RegulatorIdentifier

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_REGULATOR_SYSTEMS = (SYSTEM_IDNPS, SYSTEM_SAS)


def load_json_resource(body: bytes | str | Mapping[str, Any], resource_type: str) -> dict:
    """The body as a dict of the expected ``resourceType``, or a 400."""
    if isinstance(body, bytes | str):
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise InvalidResource("Le corps de la requête n'est pas du JSON valide.") from None
    else:
        data = dict(body)
    if not isinstance(data, dict):
        raise InvalidResource("Le corps de la requête doit être une ressource FHIR (objet JSON).")
    if data.get("resourceType") != resource_type:
        raise InvalidResource(
            f"Ressource {resource_type} attendue, reçu : {data.get('resourceType')!r}."
        )
    return data


def _type_codes(identifier: Mapping[str, Any]) -> set[str]:
    codings = (identifier.get("type") or {}).get("coding") or []
    return {c.get("code") for c in codings if isinstance(c, Mapping)}


def _regulator_identifier(identifier: Mapping[str, Any]) -> RegulatorIdentifier | None:
    system = identifier.get("system")
    value = (identifier.get("value") or "").strip()
    if system == SYSTEM_IDNST and "IDNPS" in _type_codes(identifier):
        # The guide's own example (Regul1) puts an IDNPS under the structures' OID; the
        # matching Appointment examples send it back under the persons' OID.
        system = SYSTEM_IDNPS
    if system not in _REGULATOR_SYSTEMS:
        return None
    if not value:
        raise ProfileViolation(
            f"Identifiant sans valeur pour le système {system}.",
            code=REQUIRED,
            expression="Practitioner.identifier.value",
        )
    return RegulatorIdentifier(system=system, value=value)


def _one(found: list[RegulatorIdentifier], label: str) -> RegulatorIdentifier | None:
    values = {i.value for i in found}
    if len(values) > 1:
        raise ProfileViolation(
            f"Plusieurs identifiants {label} différents pour un même régulateur.",
            code=VALUE,
            expression="Practitioner.identifier",
        )
    return found[0] if found else None


def parse_regulator(body: bytes | str | Mapping[str, Any]) -> RegulatorAccountIn:
    """A FrPractitionerRegul body → the account to create or update."""
    data = load_json_resource(body, "Practitioner")
    try:
        Practitioner.model_validate(data)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InvalidResource(
            f"Ressource Practitioner non conforme à FHIR R4 : {str(exc).splitlines()[0]}"
        ) from None

    identifiers = [
        i for i in (_regulator_identifier(raw) for raw in data.get("identifier") or []) if i
    ]
    national = _one([i for i in identifiers if i.system == SYSTEM_IDNPS], "nationaux (IDNPS)")
    technical = _one([i for i in identifiers if i.system == SYSTEM_SAS], "techniques SAS")
    if national is None and technical is None:
        raise ProfileViolation(
            "Aucun identifiant exploitable : identifiant national (urn:oid:1.2.250.1.71.4.2.1) "
            "ou identifiant technique SAS (urn:oid:1.2.250.1.213.3.6) attendu.",
            code=REQUIRED,
            expression="Practitioner.identifier",
        )

    active = data.get("active")
    if not isinstance(active, bool):
        raise ProfileViolation(
            "L'élément active est obligatoire.", code=REQUIRED, expression="Practitioner.active"
        )

    emails = [
        (t.get("value") or "").strip()
        for t in data.get("telecom") or []
        if t.get("system") == "email" and (t.get("value") or "").strip()
    ]
    if not emails:
        raise ProfileViolation(
            "Une adresse e-mail (telecom, system=email) est obligatoire.",
            code=REQUIRED,
            expression="Practitioner.telecom",
        )
    if not _EMAIL_RE.fullmatch(emails[0]):
        raise ProfileViolation(
            f"Adresse e-mail non conforme : {emails[0]!r}.",
            code=VALUE,
            expression="Practitioner.telecom",
        )

    names = data.get("name") or []
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    given = " ".join(g for g in name.get("given") or [] if g) or None
    return RegulatorAccountIn(
        national_id=national,
        technical_id=technical,
        active=active,
        email=emails[0].lower(),
        family=name.get("family") or None,
        given=given,
        source=(data.get("meta") or {}).get("source"),
    )


def parse_identifier_param(value: str | None) -> RegulatorIdentifier:
    """The ``identifier=system|value`` of a conditional ``PUT [base]/Practitioner``, or a 400."""
    if not value or not value.strip():
        raise SearchParamError(
            "Paramètre identifier obligatoire pour une mise à jour conditionnelle.",
            code=REQUIRED,
            expression="identifier",
        )
    system, sep, ident = value.strip().partition("|")
    if system == SYSTEM_IDNST:
        system = SYSTEM_IDNPS  # same leniency as for the body (see _regulator_identifier)
    if not sep or system not in _REGULATOR_SYSTEMS or not ident.strip():
        raise SearchParamError(
            f"identifier={value!r} : system|valeur attendu, avec le système "
            f"{SYSTEM_IDNPS} ou {SYSTEM_SAS}.",
            code=VALUE,
            expression="identifier",
        )
    return RegulatorIdentifier(system=system, value=ident.strip())
