"""INT_R04 and ``/fhir/metadata``: domain views → FHIR resources, as plain JSON dicts.

Pure functions: no database, no HTTP, no clock unless passed in. The resources are built to
``docs/sas-interface.md`` (profiles, systems, codes) and checked by :mod:`app.sas.validation`.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import uuid
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from app.sas.config import CptsIdentity
from app.sas.profiles import (
    CODE_CPTS,
    EXT_ADDRESS_INSEE,
    EXT_SLOT_SERVICE_TYPE_R5,
    FHIR_JSON,
    PROFILE_BUNDLE,
    PROFILE_HEALTHCARE_SERVICE,
    PROFILE_LOCATION,
    PROFILE_ORGANIZATION,
    PROFILE_PRACTITIONER,
    PROFILE_PRACTITIONER_ROLE,
    PROFILE_SCHEDULE,
    PROFILE_SLOT,
    SYSTEM_ACT_CODE,
    SYSTEM_APPOINTMENT_TYPE,
    SYSTEM_CATEGORIE_ETABLISSEMENT,
    SYSTEM_COMMUNE,
    SYSTEM_IDNPS,
    SYSTEM_IDNST,
    SYSTEM_SLOT_TYPE,
    SYSTEM_SPECIALITE_ORDINALE,
    TYPE_SYSTEM_LOCATION_ID,
    TYPE_SYSTEM_V2_0203,
)
from app.sas.search_params import (
    ALL_INCLUDES,
    INCLUDE_ACTORS,
    INCLUDE_ORGANIZATION,
    INCLUDE_SCHEDULE,
    INCLUDE_SERVICE,
    PARIS,
)
from app.sas.views import PlaceView, PractitionerView, SlotView

Resource = dict[str, Any]
CONTAINED_LOCATION_ID = "lieu"


@functools.lru_cache(maxsize=8192)
def fhir_instant(value: dt.datetime) -> str:
    """An aware datetime as a FHIR instant, shown in Paris time with its offset.

    Cached: a week of 25 agendas repeats the same few hundred instants thousands of times.
    """
    return value.astimezone(PARIS).isoformat(timespec="seconds")


@functools.lru_cache(maxsize=8192)
def slot_instant(value: dt.datetime) -> str:
    """A Slot bound as the SAS test kit demands (INT_R04, agg-psindiv@45).

    Always ``YYYY-MM-DDThh:mm:ss.SSS+hh:mm``: milliseconds and the Paris offset written out
    (``+01:00`` in winter, ``+02:00`` in summer), never ``Z``. Appointments (INT_R03) keep
    :func:`fhir_instant`, as the guide's own examples do.
    """
    return value.astimezone(PARIS).isoformat(timespec="milliseconds")


def _coding(system: str, code: str) -> dict[str, Any]:
    return {"system": system, "code": code}


def _identifier_type(system: str, code: str) -> dict[str, Any]:
    return {"coding": [_coding(system, code)]}


def _ref(resource_type: str, resource_id: str) -> dict[str, str]:
    return {"reference": f"{resource_type}/{resource_id}"}


def role_id(practitioner: PractitionerView, place: PlaceView) -> str:
    """Stable id of the PractitionerRole (and of its Schedule) for one place of practice."""
    candidate = f"{practitioner.id}-{place.id}"
    if len(candidate) <= 64:
        return candidate
    return "r-" + hashlib.sha256(candidate.encode()).hexdigest()[:32]


def practitioner_identifier(practitioner: PractitionerView) -> dict[str, Any]:
    return {
        "type": _identifier_type(TYPE_SYSTEM_V2_0203, "IDNPS"),
        "system": SYSTEM_IDNPS,
        "value": practitioner.idnps,
    }


def build_practitioner(practitioner: PractitionerView) -> Resource:
    """FrPractitionerAgregateur: the national id (``8`` + RPPS) and the name."""
    return {
        "resourceType": "Practitioner",
        "id": practitioner.id,
        "meta": {"profile": [PROFILE_PRACTITIONER]},
        "identifier": [practitioner_identifier(practitioner)],
        "name": [{"family": practitioner.family, "given": [practitioner.given]}],
    }


def build_practitioner_role(
    practitioner: PractitionerView, place: PlaceView, cpts: CptsIdentity
) -> Resource:
    """FrPractitionerRoleExerciceAgregateur with the place of practice as a contained Location."""
    location: Resource = {
        "resourceType": "Location",
        "id": CONTAINED_LOCATION_ID,
        "meta": {"profile": [PROFILE_LOCATION]},
        "address": {
            "line": [place.address_line],
            "city": place.city,
            "postalCode": place.postal_code,
            "country": "FRA",
        },
    }
    if place.insee_code:
        # FR Core's extension: the commune's INSEE code on the postal address.
        location["address"]["extension"] = [
            {"url": EXT_ADDRESS_INSEE, "valueCoding": _coding(SYSTEM_COMMUNE, place.insee_code)}
        ]
    role: Resource = {
        "resourceType": "PractitionerRole",
        "id": role_id(practitioner, place),
        "meta": {"profile": [PROFILE_PRACTITIONER_ROLE]},
        "contained": [location],
        "active": True,
        "practitioner": _ref("Practitioner", practitioner.id),
        "organization": {
            "identifier": {
                "type": _identifier_type(TYPE_SYSTEM_V2_0203, "IDNST"),
                "system": SYSTEM_IDNST,
                "value": place.structure_idnst or cpts.idnst,
            }
        },
        "location": [{"reference": f"#{CONTAINED_LOCATION_ID}"}],
    }
    if place.phone:
        role["telecom"] = [{"system": "phone", "value": place.phone}]
    return role


def build_schedule(practitioner: PractitionerView, place: PlaceView) -> Resource:
    """FrScheduleAgregateur: one per PractitionerRole, pointing at both actors."""
    rid = role_id(practitioner, place)
    return {
        "resourceType": "Schedule",
        "id": rid,
        "meta": {"profile": [PROFILE_SCHEDULE]},
        "active": True,
        "actor": [_ref("Practitioner", practitioner.id), _ref("PractitionerRole", rid)],
    }


def build_healthcare_service(cpts: CptsIdentity) -> Resource:
    """The CPTS's SNP service that CPTS slots reference, provided by the CPTS Organization."""
    return {
        "resourceType": "HealthcareService",
        "id": cpts.healthcare_service_id,
        "meta": {"profile": [PROFILE_HEALTHCARE_SERVICE]},
        "active": True,
        "providedBy": _ref("Organization", cpts.organization_id),
        "name": f"Soins non programmés — {cpts.name}",
    }


def build_organization(cpts: CptsIdentity) -> Resource:
    """The CPTS Organization: one IDNST identifier (``1`` + FINESS), name and phone."""
    org: Resource = {
        "resourceType": "Organization",
        "id": cpts.organization_id,
        "meta": {"profile": [PROFILE_ORGANIZATION]},
        "identifier": [
            {
                "type": _identifier_type(TYPE_SYSTEM_LOCATION_ID, "IDNST"),
                "system": SYSTEM_IDNST,
                "value": cpts.idnst,
            }
        ],
        "active": True,
        "name": cpts.name,
        "telecom": [{"system": "phone", "value": cpts.phone}],
    }
    if cpts.address_line and cpts.city and cpts.postal_code:
        org["address"] = [
            {"line": [cpts.address_line], "city": cpts.city, "postalCode": cpts.postal_code}
        ]
    return org


def _slot_common(slot: SlotView, practitioner: PractitionerView, cpts: CptsIdentity) -> Resource:
    """What a Slot shares with every slot of the same GP, place and kind (built once)."""
    place = practitioner.place(slot.place_id)
    service_types: list[dict[str, Any]] = [
        {"coding": [_coding(SYSTEM_ACT_CODE, slot.consultation_type)]},
        {
            "extension": [
                {
                    "url": EXT_SLOT_SERVICE_TYPE_R5,
                    "valueReference": _ref("HealthcareService", cpts.healthcare_service_id),
                }
            ],
            "coding": [_coding(SYSTEM_CATEGORIE_ETABLISSEMENT, CODE_CPTS)],
        },
    ]
    if slot.label:
        service_types.append({"text": slot.label})
    specialty: dict[str, Any] = {}
    if practitioner.specialty_code:
        specialty["coding"] = [_coding(SYSTEM_SPECIALITE_ORDINALE, practitioner.specialty_code)]
    if practitioner.specialty_text:
        specialty["text"] = practitioner.specialty_text
    common: Resource = {
        "meta": {
            "profile": [PROFILE_SLOT],
            "security": [_coding(SYSTEM_SLOT_TYPE, code) for code in slot.slot_types],
        },
        "serviceType": service_types,
        "appointmentType": {
            "coding": [_coding(SYSTEM_APPOINTMENT_TYPE, "ROUTINE" if slot.bookable else "WALKIN")]
        },
        "schedule": _ref("Schedule", role_id(practitioner, place)),
    }
    if specialty:
        common["specialty"] = [specialty]
    return common


def build_slot(
    slot: SlotView,
    practitioner: PractitionerView,
    cpts: CptsIdentity,
    *,
    common: Resource | None = None,
) -> Resource:
    """FrSlotAgregateurCPTS: slot types, consultation type, the CPTS 604 service, agenda URL.

    ``common`` (from :func:`_slot_common`) lets a bundle share the constant parts between
    its slots: they are the same objects, to be read, not modified.
    """
    common = common or _slot_common(slot, practitioner, cpts)
    resource: Resource = {
        "resourceType": "Slot",
        "id": slot.id,
        "meta": common["meta"],
        "serviceType": common["serviceType"],
        "appointmentType": common["appointmentType"],
        "schedule": common["schedule"],
        "status": "free",
        "start": slot_instant(slot.start),
        "end": slot_instant(slot.end),
        "comment": practitioner.agenda_url,
    }
    if "specialty" in common:
        resource["specialty"] = common["specialty"]
    return resource


def _entry(base_url: str, resource: Resource, mode: str) -> dict[str, Any]:
    return {
        "fullUrl": f"{base_url}/{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "search": {"mode": mode},
    }


def build_slot_bundle(
    *,
    slots: Sequence[SlotView],
    practitioners: Iterable[PractitionerView],
    cpts: CptsIdentity,
    base_url: str,
    self_url: str,
    includes: Collection[str] = ALL_INCLUDES,
    bundle_id: str | None = None,
) -> Resource:
    """The INT_R04 searchset: the matching Slots, then the resources the search included.

    ``base_url`` is our public FHIR base (``https://…/fhir``) used for every ``fullUrl``;
    ``self_url`` is the request URL as received. ``_include:iterate`` targets follow FHIR:
    actors only come with included Schedules, the Organization with the HealthcareService.
    """
    base_url = base_url.rstrip("/")
    by_id = {p.id: p for p in practitioners}
    ordered = sorted(slots, key=lambda s: (s.start, s.id))
    missing = {s.practitioner_id for s in ordered} - by_id.keys()
    if missing:
        raise ValueError(f"praticiens absents des vues : {sorted(missing)}")

    commons: dict[tuple, Resource] = {}
    entries = []
    for slot in ordered:
        practitioner = by_id[slot.practitioner_id]
        key = (
            practitioner.id,
            slot.place_id,
            slot.consultation_type,
            slot.slot_types,
            slot.bookable,
            slot.label,
        )
        common = commons.get(key)
        if common is None:
            common = commons[key] = _slot_common(slot, practitioner, cpts)
        entries.append(
            _entry(base_url, build_slot(slot, practitioner, cpts, common=common), "match")
        )
    with_schedule = INCLUDE_SCHEDULE in includes
    with_actors = with_schedule and INCLUDE_ACTORS in includes
    with_service = INCLUDE_SERVICE in includes and bool(ordered)
    with_org = with_service and INCLUDE_ORGANIZATION in includes

    seen_roles: dict[str, tuple[PractitionerView, PlaceView]] = {}
    for slot in ordered:
        practitioner = by_id[slot.practitioner_id]
        place = practitioner.place(slot.place_id)
        seen_roles.setdefault(role_id(practitioner, place), (practitioner, place))

    included: list[Resource] = []
    if with_schedule:
        included += [build_schedule(p, place) for p, place in seen_roles.values()]
    if with_actors:
        seen_practitioners: dict[str, PractitionerView] = {}
        for p, _place in seen_roles.values():
            seen_practitioners.setdefault(p.id, p)
        included += [build_practitioner(p) for p in seen_practitioners.values()]
        included += [build_practitioner_role(p, place, cpts) for p, place in seen_roles.values()]
    if with_service:
        included.append(build_healthcare_service(cpts))
    if with_org:
        included.append(build_organization(cpts))
    entries += [_entry(base_url, r, "include") for r in included]

    bundle: Resource = {
        "resourceType": "Bundle",
        "id": bundle_id or str(uuid.uuid4()),
        "meta": {"profile": [PROFILE_BUNDLE]},
        "type": "searchset",
        "total": len(ordered),
        "link": [{"relation": "self", "url": self_url}],
    }
    if entries:
        bundle["entry"] = entries
    return bundle


def build_capability_statement(
    *,
    base_url: str,
    software_version: str = "0.1.0",
    date: dt.date | None = None,
) -> Resource:
    """``GET /fhir/metadata``: what we serve to the SAS (INT_R04 search, INT_R02 accounts)."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": (date or dt.date.today()).isoformat(),
        "publisher": "Premier Recours",
        "kind": "instance",
        "software": {"name": "Premier Recours", "version": software_version},
        "implementation": {
            "description": "Gestionnaire d'agenda — cas d'usage CPTS (Service d'Accès aux Soins)",
            "url": base_url.rstrip("/"),
        },
        "fhirVersion": "4.0.1",
        "format": [FHIR_JSON, "application/json+fhir"],
        "implementationGuide": ["https://interop.esante.gouv.fr/ig/fhir/sas"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Créneaux SNP de la CPTS et comptes des régulateurs du SAS.",
                "security": {
                    "cors": False,
                    "description": "TLS mutuel (certificats IGC-Santé) et jeton porteur.",
                },
                "resource": [
                    {
                        "type": "Slot",
                        "profile": PROFILE_SLOT,
                        "interaction": [{"code": "search-type"}],
                        "searchInclude": [
                            INCLUDE_SCHEDULE,
                            INCLUDE_ACTORS,
                            INCLUDE_SERVICE,
                            INCLUDE_ORGANIZATION,
                        ],
                        "searchParam": [
                            {
                                "name": "start",
                                "definition": "http://hl7.org/fhir/SearchParameter/Slot-start",
                                "type": "date",
                                "documentation": "Obligatoire, deux fois : ge… et le….",
                            },
                            {
                                "name": "status",
                                "definition": "http://hl7.org/fhir/SearchParameter/Slot-status",
                                "type": "token",
                                "documentation": "Obligatoire : free.",
                            },
                            {
                                "name": "schedule.actor:Practitioner.identifier",
                                "type": "token",
                                "documentation": "Obligatoire : 1 à 25 identifiants "
                                "nationaux system|valeur (8 + RPPS).",
                            },
                        ],
                    },
                    {
                        "type": "Practitioner",
                        "interaction": [{"code": "create"}, {"code": "update"}],
                        "updateCreate": True,
                        "conditionalUpdate": True,
                        "searchParam": [
                            {
                                "name": "identifier",
                                "definition": (
                                    "http://hl7.org/fhir/SearchParameter/Practitioner-identifier"
                                ),
                                "type": "token",
                            }
                        ],
                    },
                ],
            }
        ],
    }
