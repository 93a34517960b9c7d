"""Our own checks of the SAS profile rules, for tests and runtime self-checks.

Each ``check_*`` returns the list of problems (empty when conforming); :func:`validate`
also parses the resource with the ``fhir.resources`` R4B models (close enough to R4 4.0.1
for these resources; the package has no R4 models) and raises :class:`SasProfileError`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from fhir.resources.R4B import get_fhir_model_class

from app.sas.profiles import (
    APPOINTMENT_STATUSES,
    CODE_CPTS,
    CONSULTATION_TYPES,
    EXT_APPOINTMENT_OPERATOR,
    EXT_SLOT_SERVICE_TYPE_R5,
    IDNPS_ADELI_RE,
    IDNPS_RPPS_RE,
    IDNST_FINESS_RE,
    PHONE_RE,
    POSTAL_CODE_RE,
    PROFILE_APPOINTMENT,
    PROFILE_BUNDLE,
    PROFILE_HEALTHCARE_SERVICE,
    PROFILE_LOCATION,
    PROFILE_ORGANIZATION,
    PROFILE_PRACTITIONER,
    PROFILE_PRACTITIONER_ROLE,
    PROFILE_SCHEDULE,
    PROFILE_SLOT,
    SLOT_INSTANT_RE,
    SLOT_TYPES,
    SYSTEM_ACT_CODE,
    SYSTEM_APPOINTMENT_TYPE,
    SYSTEM_CATEGORIE_ETABLISSEMENT,
    SYSTEM_IDNPS,
    SYSTEM_IDNST,
    SYSTEM_SAS,
    SYSTEM_SLOT_TYPE,
    TYPE_SYSTEM_LOCATION_ID,
    TYPE_SYSTEM_V2_0203,
    TYPE_SYSTEMS_V2_0203,
)

Resource = dict[str, Any]
_HOST_RE = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?")


class SasProfileError(ValueError):
    """A resource we built does not conform; carries every problem found."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def parse_r4(resource: Resource) -> Any:
    """Parse a resource with the fhir.resources R4B model of its type (raises if invalid)."""
    return get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def _profiles(resource: Resource) -> list[str]:
    return list((resource.get("meta") or {}).get("profile") or [])


def _has_type(identifier: Resource, code: str, systems: frozenset[str] | set[str]) -> bool:
    codings = (identifier.get("type") or {}).get("coding") or []
    return any(c.get("code") == code and c.get("system") in systems for c in codings)


def _phones(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for telecom in node.get("telecom") or []:
            if isinstance(telecom, dict) and telecom.get("system") == "phone":
                yield telecom.get("value") or ""
        for value in node.values():
            yield from _phones(value)
    elif isinstance(node, list):
        for value in node:
            yield from _phones(value)


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            yield node["reference"]
        for key, value in node.items():
            if key != "contained":
                yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def _aware(value: Any) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else None


def _absolute_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(_HOST_RE.fullmatch(parts.netloc))


def _require_profile(resource: Resource, profile: str, where: str) -> list[str]:
    return [] if profile in _profiles(resource) else [f"{where}: meta.profile {profile} absent"]


def check_slot(slot: Resource) -> list[str]:
    """FrSlotAgregateurCPTS: free, aware dates, slot types, consultation type, 604 + extension."""
    where = f"Slot/{slot.get('id')}"
    problems = _require_profile(slot, PROFILE_SLOT, where)
    if slot.get("status") != "free":
        problems.append(f"{where}: status doit être free")
    for check in (_slot_bounds, _slot_security, _slot_service_types, _slot_links):
        problems += check(slot, where)
    return problems


def _slot_bounds(slot: Resource, where: str) -> list[str]:
    """INT_R04 instants: AAAA-MM-JJThh:mm:ss.SSS+hh:mm (agg-psindiv@45), start before end."""
    problems = [
        f"{where}: {name} au format AAAA-MM-JJThh:mm:ss.SSS+hh:mm attendu ({slot.get(name)!r})"
        for name in ("start", "end")
        if not SLOT_INSTANT_RE.fullmatch(str(slot.get(name) or ""))
    ]
    start, end = _aware(slot.get("start")), _aware(slot.get("end"))
    if start is None or end is None:
        return [*problems, f"{where}: start et end avec fuseau horaire attendus"]
    return [*problems, f"{where}: start doit précéder end"] if start >= end else problems


def _slot_security(slot: Resource, where: str) -> list[str]:
    """Every meta.security code from TRE-R314, and a CPTS SNP slot carries both."""
    problems = []
    security = (slot.get("meta") or {}).get("security") or []
    codes = {s.get("code") for s in security if s.get("system") == SYSTEM_SLOT_TYPE}
    if len(codes) != len(security) or not codes <= SLOT_TYPES:
        problems.append(f"{where}: meta.security hors TRE-R314 ({security})")
    if not {"SNP", "CPTS"} <= codes:
        problems.append(f"{where}: un créneau SNP de la CPTS porte SNP et CPTS")
    return problems


def _slot_service_types(slot: Resource, where: str) -> list[str]:
    """One consultation type (AMB/HH/VR), and the CPTS category 604 with its R5 extension."""
    problems = []
    service_types = slot.get("serviceType") or []
    consultation = [
        c["code"]
        for st in service_types
        for c in st.get("coding") or []
        if c.get("system") == SYSTEM_ACT_CODE
    ]
    if len(consultation) != 1 or consultation[0] not in CONSULTATION_TYPES:
        problems.append(f"{where}: un type de consultation AMB/HH/VR attendu ({consultation})")
    cpts = [
        st
        for st in service_types
        if any(
            c.get("system") == SYSTEM_CATEGORIE_ETABLISSEMENT and c.get("code") == CODE_CPTS
            for c in st.get("coding") or []
        )
    ]
    if len(cpts) != 1:
        problems.append(f"{where}: serviceType CPTS (604) attendu une fois")
        return problems
    exts = [e for e in cpts[0].get("extension") or [] if e.get("url") == EXT_SLOT_SERVICE_TYPE_R5]
    ref = exts[0].get("valueReference", {}).get("reference", "") if len(exts) == 1 else ""
    if not ref.startswith("HealthcareService/"):
        problems.append(f"{where}: extension R5 serviceType vers HealthcareService attendue")
    return problems


def _slot_links(slot: Resource, where: str) -> list[str]:
    """Appointment type, the practitioner's agenda URL (comment) and the Schedule."""
    problems = []
    appointment_type = (slot.get("appointmentType") or {}).get("coding") or []
    if not any(
        c.get("system") == SYSTEM_APPOINTMENT_TYPE and c.get("code") in ("ROUTINE", "WALKIN")
        for c in appointment_type
    ):
        problems.append(f"{where}: appointmentType ROUTINE/WALKIN attendu")
    if not _absolute_url((slot.get("comment") or "").strip()):
        problems.append(f"{where}: comment doit être l'URL de l'agenda du praticien")
    if not (slot.get("schedule") or {}).get("reference", "").startswith("Schedule/"):
        problems.append(f"{where}: schedule doit référencer un Schedule")
    return problems


def check_schedule(schedule: Resource) -> list[str]:
    where = f"Schedule/{schedule.get('id')}"
    problems = _require_profile(schedule, PROFILE_SCHEDULE, where)
    kinds = sorted(a.get("reference", "").split("/")[0] for a in schedule.get("actor") or [])
    if kinds != ["Practitioner", "PractitionerRole"]:
        problems.append(f"{where}: actor doit référencer un Practitioner et un PractitionerRole")
    return problems


def check_practitioner(practitioner: Resource) -> list[str]:
    where = f"Practitioner/{practitioner.get('id')}"
    problems = _require_profile(practitioner, PROFILE_PRACTITIONER, where)
    national = [i for i in practitioner.get("identifier") or [] if i.get("system") == SYSTEM_IDNPS]
    if len(national) != 1:
        problems.append(f"{where}: un identifiant national {SYSTEM_IDNPS} attendu")
    else:
        value = national[0].get("value") or ""
        if not (IDNPS_RPPS_RE.fullmatch(value) or IDNPS_ADELI_RE.fullmatch(value)):
            problems.append(f"{where}: identifiant national non préfixé ({value!r})")
        if not _has_type(national[0], "IDNPS", TYPE_SYSTEMS_V2_0203):
            problems.append(f"{where}: identifier.type IDNPS attendu")
    if not any(n.get("family") for n in practitioner.get("name") or []):
        problems.append(f"{where}: name.family attendu")
    return problems


def check_practitioner_role(role: Resource) -> list[str]:
    """Contained Location (line, city, postal code) referenced by ``location``; IDNST."""
    where = f"PractitionerRole/{role.get('id')}"
    problems = _require_profile(role, PROFILE_PRACTITIONER_ROLE, where)
    contained = {c.get("id"): c for c in role.get("contained") or []}
    locations = role.get("location") or []
    if len(locations) != 1:
        problems.append(f"{where}: exactement une location attendue")
    for loc_ref in locations:
        ref = loc_ref.get("reference", "")
        location = contained.get(ref[1:]) if ref.startswith("#") else None
        if location is None or location.get("resourceType") != "Location":
            problems.append(f"{where}: location {ref!r} n'est pas une Location contenue")
            continue
        problems += _require_profile(location, PROFILE_LOCATION, f"{where}#{location.get('id')}")
        address = location.get("address") or {}
        if len(address.get("line") or []) != 1 or not address.get("city"):
            problems.append(f"{where}: adresse du lieu incomplète (line, city)")
        if not POSTAL_CODE_RE.fullmatch(address.get("postalCode") or ""):
            problems.append(f"{where}: code postal sur 5 chiffres attendu")
    if not (role.get("practitioner") or {}).get("reference", "").startswith("Practitioner/"):
        problems.append(f"{where}: practitioner doit référencer un Practitioner")
    org_id = (role.get("organization") or {}).get("identifier") or {}
    if org_id.get("system") != SYSTEM_IDNST or not org_id.get("value"):
        problems.append(f"{where}: organization.identifier IDNST ({SYSTEM_IDNST}) attendu")
    elif not _has_type(org_id, "IDNST", TYPE_SYSTEMS_V2_0203):
        problems.append(f"{where}: organization.identifier.type IDNST attendu")
    return problems


def check_healthcare_service(service: Resource) -> list[str]:
    where = f"HealthcareService/{service.get('id')}"
    problems = _require_profile(service, PROFILE_HEALTHCARE_SERVICE, where)
    if not (service.get("providedBy") or {}).get("reference", "").startswith("Organization/"):
        problems.append(f"{where}: providedBy doit référencer l'Organization de la CPTS")
    return problems


def check_organization(org: Resource) -> list[str]:
    """The CPTS: exactly one IDNST identifier matching ``^1[0-9]{9}$``, a name, a phone."""
    where = f"Organization/{org.get('id')}"
    problems = _require_profile(org, PROFILE_ORGANIZATION, where)
    identifiers = org.get("identifier") or []
    if len(identifiers) != 1:
        problems.append(f"{where}: exactement un identifiant attendu")
    for ident in identifiers:
        if ident.get("system") != SYSTEM_IDNST:
            problems.append(f"{where}: système {SYSTEM_IDNST} attendu")
        if not IDNST_FINESS_RE.fullmatch(ident.get("value") or ""):
            problems.append(f"{where}: identifiant {ident.get('value')!r} hors ^1[0-9]{{9}}$")
        if not _has_type(ident, "IDNST", {TYPE_SYSTEM_LOCATION_ID, TYPE_SYSTEM_V2_0203}):
            problems.append(f"{where}: identifier.type IDNST attendu")
    if not org.get("name"):
        problems.append(f"{where}: name attendu")
    if not any(t.get("system") == "phone" for t in org.get("telecom") or []):
        problems.append(f"{where}: un téléphone attendu")
    return problems


_CHECKS: dict[str, Callable[[Resource], list[str]]] = {
    "Slot": check_slot,
    "Schedule": check_schedule,
    "Practitioner": check_practitioner,
    "PractitionerRole": check_practitioner_role,
    "HealthcareService": check_healthcare_service,
    "Organization": check_organization,
}


def check_slot_bundle(bundle: Resource, *, complete: bool = True) -> list[str]:
    """The INT_R04 searchset rules; ``complete`` (all four includes) also demands that every
    reference resolves inside the Bundle."""
    problems: list[str] = []
    if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "searchset":
        return ["Bundle de type searchset attendu"]
    problems += _require_profile(bundle, PROFILE_BUNDLE, "Bundle")
    links = bundle.get("link") or []
    if len(links) != 1 or links[0].get("relation") != "self" or not links[0].get("url"):
        problems.append("Bundle: exactement un link de relation self attendu")
    entries = bundle.get("entry") or []
    matches = [e for e in entries if (e.get("search") or {}).get("mode") == "match"]
    if bundle.get("total") != len(matches):
        problems.append(f"Bundle: total={bundle.get('total')} pour {len(matches)} match")
    known: set[str] = set()
    full_urls: set[str] = set()
    for entry in entries:
        resource = entry.get("resource") or {}
        rtype, rid = resource.get("resourceType"), resource.get("id")
        key = f"{rtype}/{rid}"
        full_url = entry.get("fullUrl") or ""
        if not _absolute_url(full_url) or not full_url.endswith("/" + key):
            problems.append(f"{key}: fullUrl absolu attendu ({full_url!r})")
        if full_url in full_urls:
            problems.append(f"{key}: fullUrl en double")
        full_urls.add(full_url)
        known.add(key)
        mode = (entry.get("search") or {}).get("mode")
        expected = "match" if rtype == "Slot" else "include"
        if mode != expected:
            problems.append(f"{key}: search.mode={mode!r}, {expected!r} attendu")
        check = _CHECKS.get(str(rtype))
        problems += check(resource) if check else [f"{key}: ressource inattendue"]
    for phone in _phones(bundle):
        if not PHONE_RE.fullmatch(phone):
            problems.append(f"téléphone hors format +33XXXXXXXXX : {phone!r}")
    if complete:
        for entry in entries:
            for ref in _references(entry.get("resource") or {}):
                if not ref.startswith("#") and ref not in known:
                    problems.append(f"référence {ref!r} non résolue dans le Bundle")
    return problems


def check_appointment(appointment: Resource) -> list[str]:
    """FrAppointmentSAS: one identifier, operator extension, status, dates, IDNPS participant."""
    problems = _require_profile(appointment, PROFILE_APPOINTMENT, "Appointment")
    identifiers = appointment.get("identifier") or []
    if len(identifiers) != 1 or not all(identifiers[0].get(k) for k in ("system", "value")):
        problems.append("Appointment: exactement un identifier (system, value) attendu")
    operators = [
        e for e in appointment.get("extension") or [] if e.get("url") == EXT_APPOINTMENT_OPERATOR
    ]
    if len(operators) != 1:
        problems.append("Appointment: extension appointmentOperator attendue")
    else:
        ident = (operators[0].get("valueReference") or {}).get("identifier") or {}
        code = {SYSTEM_IDNPS: "IDNPS", SYSTEM_SAS: "INTRN"}.get(str(ident.get("system")))
        if code is None or not ident.get("value"):
            problems.append("Appointment: régulateur identifié par IDNPS ou INTRN attendu")
        elif not _has_type(ident, code, TYPE_SYSTEMS_V2_0203):
            problems.append(f"Appointment: type {code} de l'identifiant du régulateur attendu")
    if appointment.get("status") not in APPOINTMENT_STATUSES:
        problems.append(f"Appointment: statut {appointment.get('status')!r} hors SAS")
    for name in ("start", "end"):
        if not appointment.get(name):
            problems.append(f"Appointment: {name} attendu")
    participants = appointment.get("participant") or []
    if len(participants) != 1 or participants[0].get("status") != "accepted":
        problems.append("Appointment: un participant accepted attendu")
    else:
        ident = (participants[0].get("actor") or {}).get("identifier") or {}
        if ident.get("system") != SYSTEM_IDNPS or not _has_type(
            ident, "IDNPS", TYPE_SYSTEMS_V2_0203
        ):
            problems.append("Appointment: participant identifié par son IDNPS attendu")
        value = ident.get("value") or ""
        if not (IDNPS_RPPS_RE.fullmatch(value) or IDNPS_ADELI_RE.fullmatch(value)):
            problems.append(f"Appointment: IDNPS du participant non préfixé ({value!r})")
    return problems


def validate(resource: Resource, *, complete: bool = True) -> None:
    """Parse with fhir.resources and run our checks; raise :class:`SasProfileError` if not OK."""
    try:
        parse_r4(resource)
    except (ValueError, TypeError, KeyError) as exc:
        raise SasProfileError([f"fhir.resources : {exc}"]) from None
    rtype = resource.get("resourceType")
    if rtype == "Bundle":
        problems = check_slot_bundle(resource, complete=complete)
    elif rtype == "Appointment":
        problems = check_appointment(resource)
    else:
        problems = _CHECKS.get(str(rtype), lambda _r: [])(resource)
    if problems:
        raise SasProfileError(problems)
