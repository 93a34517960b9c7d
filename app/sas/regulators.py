"""INT_R02: read the regulator accounts the SAS creates and updates (FrPractitionerRegul).

400 when the body is not a FHIR Practitioner at all (not JSON, nested beyond reason, not
valid R4); 422 when it breaks the profile. Each profile rule is one small function below,
raising :class:`ProfileViolation` on the element at fault: a refused body is never partly
applied, because nothing reaches the accounts service before every rule has passed.
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

Json = Mapping[str, Any]

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_REGULATOR_SYSTEMS = (SYSTEM_IDNPS, SYSTEM_SAS)
# The identifier type each regulator system must not carry (the profile fixes the other one).
_CONTRADICTORY_TYPE = {SYSTEM_IDNPS: "INTRN", SYSTEM_SAS: "IDNPS"}
_SYSTEM_LABEL = {
    SYSTEM_IDNPS: "L'identifiant national (urn:oid:1.2.250.1.71.4.2.1) est de type IDNPS",
    SYSTEM_SAS: "L'identifiant technique SAS (urn:oid:1.2.250.1.213.3.6) est de type INTRN",
}


def _decode_json(body: bytes | str) -> Any:
    """The parsed body, or a 400 (not JSON, or nested deeper than the parser's stack)."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidResource("Le corps de la requête n'est pas du JSON valide.") from None
    except RecursionError:
        # Thousands of nested [ or { exhaust the parser's stack: a bad body, not a 500.
        raise InvalidResource(
            "Le corps de la requête est imbriqué trop profondément pour être lu."
        ) from None


def load_json_resource(body: bytes | str | Mapping[str, Any], resource_type: str) -> dict:
    """The body as a dict of the expected ``resourceType``, or a 400."""
    data = _decode_json(body) if isinstance(body, bytes | str) else dict(body)
    if not isinstance(data, dict):
        raise InvalidResource("Le corps de la requête doit être une ressource FHIR (objet JSON).")
    if data.get("resourceType") != resource_type:
        raise InvalidResource(
            f"Ressource {resource_type} attendue, reçu : {data.get('resourceType')!r}."
        )
    return data


def _practitioner(body: bytes | str | Json) -> dict:
    """A body that parses as a FHIR R4 Practitioner (fhir.resources), or a 400."""
    data = load_json_resource(body, "Practitioner")
    try:
        Practitioner.model_validate(data)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
        raise InvalidResource(
            f"Ressource Practitioner non conforme à FHIR R4 : {str(exc).splitlines()[0]}"
        ) from None
    return data


def _source(data: Json) -> str | None:
    """``meta.source``: optional, but fixed to the SAS's OID when sent."""
    source = (data.get("meta") or {}).get("source")
    if source is not None and source != SYSTEM_SAS:
        raise ProfileViolation(
            f"meta.source doit valoir {SYSTEM_SAS} (reçu : {source!r}).",
            code=VALUE,
            expression="Practitioner.meta.source",
        )
    return source


def _type_codes(identifier: Json) -> set[str]:
    codings = (identifier.get("type") or {}).get("coding") or []
    return {str(c.get("code")) for c in codings if isinstance(c, Mapping)}


def _check_identifier_type(identifier: Json) -> None:
    """The two contradictory forms: a national id typed INTRN, a SAS technical id typed IDNPS."""
    system = str(identifier.get("system") or "")
    wrong = _CONTRADICTORY_TYPE.get(system)
    if wrong is not None and wrong in _type_codes(identifier):
        raise ProfileViolation(
            f"{_SYSTEM_LABEL[system]}, pas {wrong}.",
            code=VALUE,
            expression="Practitioner.identifier.type",
        )


def _regulator_identifier(identifier: Json) -> RegulatorIdentifier | None:
    """One identifier of the body as a regulator id; ``None`` for systems we do not use."""
    _check_identifier_type(identifier)
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


def _identifiers(data: Json) -> tuple[RegulatorIdentifier | None, RegulatorIdentifier | None]:
    """(national, technical): at least one, each at most one distinct value."""
    found = [i for i in map(_regulator_identifier, data.get("identifier") or []) if i]
    national = _one([i for i in found if i.system == SYSTEM_IDNPS], "nationaux (IDNPS)")
    technical = _one([i for i in found if i.system == SYSTEM_SAS], "techniques SAS")
    if national is None and technical is None:
        raise ProfileViolation(
            "Aucun identifiant exploitable : identifiant national (urn:oid:1.2.250.1.71.4.2.1) "
            "ou identifiant technique SAS (urn:oid:1.2.250.1.213.3.6) attendu.",
            code=REQUIRED,
            expression="Practitioner.identifier",
        )
    return national, technical


def _active(data: Json) -> bool:
    """``active`` is mandatory: ``false`` is how the SAS revokes an account."""
    active = data.get("active")
    if not isinstance(active, bool):
        raise ProfileViolation(
            "L'élément active est obligatoire.", code=REQUIRED, expression="Practitioner.active"
        )
    return active


def _email(data: Json) -> str:
    """The first e-mail telecom (mandatory: it is the regulator's login contact), lower-cased."""
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
    return emails[0].lower()


def _check_name(name: Json) -> tuple[str, str]:
    """One HumanName: ``family`` and ``given`` are both 1..1 in FrPractitionerRegul."""
    family = (name.get("family") or "").strip()
    if not family:
        raise ProfileViolation(
            "Le nom de famille (name.family) est obligatoire dans un nom.",
            code=REQUIRED,
            expression="Practitioner.name.family",
        )
    given = name.get("given") or []
    first = (given[0] or "").strip() if given else ""
    if len(given) != 1 or not first:
        raise ProfileViolation(
            "Un et un seul prénom (name.given) est attendu dans un nom.",
            code=VALUE if len(given) > 1 else REQUIRED,
            expression="Practitioner.name.given",
        )
    return family, first


def _name(data: Json) -> tuple[str | None, str | None]:
    """(family, given) of the official name, else the first; no name at all is allowed."""
    names = data.get("name") or []
    checked = [_check_name(n) for n in names]
    if not checked:
        return None, None
    official = next((i for i, n in enumerate(names) if n.get("use") == "official"), 0)
    return checked[official]


def parse_regulator(body: bytes | str | Json) -> RegulatorAccountIn:
    """A FrPractitionerRegul body → the account to create or update (or a 400/422)."""
    data = _practitioner(body)
    source = _source(data)
    national, technical = _identifiers(data)
    active = _active(data)
    email = _email(data)
    family, given = _name(data)
    return RegulatorAccountIn(
        national_id=national,
        technical_id=technical,
        active=active,
        email=email,
        family=family,
        given=given,
        source=source,
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
