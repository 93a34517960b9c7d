"""Canonical URLs, identifier systems and codes of the SAS guide, written once.

The guide is inconsistent about some URLs (``sas.fr`` vs ``interop.esante.gouv.fr``);
they are kept exactly as ``docs/sas-interface.md`` lists them, because the SAS test kit
selects resources by these very strings.
"""

from __future__ import annotations

import re

from app.core.sections import FINESS_DIGITS_RE as _FINESS_DIGITS_RE
from app.core.sections import PHONE_RE as _PHONE_RE

# --- meta.profile -------------------------------------------------------------------------
_IG = "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition"
PROFILE_BUNDLE = f"{_IG}/sas-cpts-bundle-aggregator"
PROFILE_SLOT = f"{_IG}/sas-cpts-slot-aggregator"
PROFILE_SCHEDULE = "http://sas.fr/fhir/StructureDefinition/FrScheduleAgregateur"
PROFILE_PRACTITIONER = "http://sas.fr/fhir/StructureDefinition/FrPractitionerAgregateur"
PROFILE_PRACTITIONER_ROLE = (
    "http://sas.fr/fhir/StructureDefinition/FrPractitionerRoleExerciceAgregateur"
)
PROFILE_LOCATION = "http://sas.fr/fhir/StructureDefinition/FrLocationAgregateur"
PROFILE_HEALTHCARE_SERVICE = f"{_IG}/sas-cpts-healthcareservice-aggregator"
PROFILE_ORGANIZATION = f"{_IG}/sas-cpts-organization-aggregator"
PROFILE_APPOINTMENT = "http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS"
PROFILE_REGULATOR = f"{_IG}/FrPractitionerRegul"

# --- identifier systems ------------------------------------------------------------------
SYSTEM_IDNPS = "urn:oid:1.2.250.1.71.4.2.1"  # national id of a health professional
SYSTEM_IDNST = "urn:oid:1.2.250.1.71.4.2.2"  # national id of a structure
SYSTEM_SAS = "urn:oid:1.2.250.1.213.3.6"  # the SAS platform (technical ids, meta.source)

# Identifier type code systems. FR Core now publishes v2-0203 under hl7.fr; the guide's
# examples still use the interopsante URL. We emit the FR Core one and accept both.
TYPE_SYSTEM_V2_0203 = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
TYPE_SYSTEM_V2_0203_LEGACY = "http://interopsante.org/fhir/CodeSystem/fr-v2-0203"
TYPE_SYSTEMS_V2_0203 = frozenset({TYPE_SYSTEM_V2_0203, TYPE_SYSTEM_V2_0203_LEGACY})
# The CPTS Organization profile binds its IDNST type to this code system (as its example).
TYPE_SYSTEM_LOCATION_ID = "http://interopsante.org/fhir/CodeSystem/fr-location-identifier-type"

# --- codes -------------------------------------------------------------------------------
SYSTEM_SLOT_TYPE = "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau"
SLOT_TYPES = frozenset({"PUBLIC", "PRO", "SNP", "CPTS"})
SYSTEM_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONSULTATION_TYPES = frozenset({"AMB", "HH", "VR"})
SYSTEM_CATEGORIE_ETABLISSEMENT = (
    "https://mos.esante.gouv.fr/NOS/TRE_R66-CategorieEtablissement/FHIR/"
    "TRE-R66-CategorieEtablissement"
)
CODE_CPTS = "604"
EXT_SLOT_SERVICE_TYPE_R5 = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType"
SYSTEM_SPECIALITE_ORDINALE = (
    "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"
)
CODE_GENERAL_MEDICINE = "SM54"
EXT_ADDRESS_INSEE = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code"
SYSTEM_COMMUNE = "https://mos.esante.gouv.fr/NOS/TRE_R13-Commune/FHIR/TRE-R13-Commune"
SYSTEM_APPOINTMENT_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0276"
EXT_APPOINTMENT_OPERATOR = "http://interopsante.org/fhir/StructureDefinition/FrAppointmentOperator"
APPOINTMENT_STATUSES = frozenset({"booked", "fulfilled", "noshow", "cancelled"})

# --- formats -----------------------------------------------------------------------------
RPPS_RE = re.compile(r"^[0-9]{11}$")
ADELI_RE = re.compile(r"^[0-9]{9}$")
IDNPS_RPPS_RE = re.compile(r"^8[0-9]{11}$")
IDNPS_ADELI_RE = re.compile(r"^0[0-9]{9}$")
FINESS_DIGITS_RE = _FINESS_DIGITS_RE
IDNST_FINESS_RE = re.compile(r"^1[0-9]{9}$")  # the guide's FINESS-invariant
PHONE_RE = _PHONE_RE
POSTAL_CODE_RE = re.compile(r"^[0-9]{5}$")
FHIR_ID_RE = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
# INT_R04 Slot.start/end (test kit, agg-psindiv@45): milliseconds and an explicit offset.
SLOT_INSTANT_RE = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{2}:[0-9]{2}$"
)

FHIR_JSON = "application/fhir+json"
FHIR_JSON_MEDIA_TYPES = frozenset({FHIR_JSON, "application/json+fhir", "application/json"})
