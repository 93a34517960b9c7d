"""The SAS (Service d'Accès aux Soins) interface: FHIR mapping apart from the transport.

Pure mapping (views → FHIR dicts, FHIR → inputs) in ``mapping``, ``search_params``,
``regulators``, ``appointments``, ``validation``; the outbound INT_R03 client in ``client``.
"""

from app.sas.appointments import build_appointment
from app.sas.client import (
    PermanentPushError,
    PushError,
    PushResult,
    SasClient,
    TransientPushError,
)
from app.sas.config import CptsIdentity, SasSettings, normalise_phone
from app.sas.mapping import build_capability_statement, build_slot_bundle
from app.sas.outcome import (
    FhirError,
    InvalidResource,
    ProfileViolation,
    SearchParamError,
    operation_outcome,
)
from app.sas.regulators import parse_identifier_param, parse_regulator
from app.sas.search_params import PractitionerKey, SlotSearch, parse_slot_search
from app.sas.validation import SasProfileError, check_appointment, check_slot_bundle, validate
from app.sas.views import (
    AppointmentView,
    PlaceView,
    PractitionerView,
    RegulatorAccountIn,
    RegulatorIdentifier,
    SlotView,
)

__all__ = [
    "AppointmentView",
    "CptsIdentity",
    "FhirError",
    "InvalidResource",
    "PermanentPushError",
    "PlaceView",
    "PractitionerKey",
    "PractitionerView",
    "ProfileViolation",
    "PushError",
    "PushResult",
    "RegulatorAccountIn",
    "RegulatorIdentifier",
    "SasClient",
    "SasProfileError",
    "SasSettings",
    "SearchParamError",
    "SlotSearch",
    "SlotView",
    "TransientPushError",
    "build_appointment",
    "build_capability_statement",
    "build_slot_bundle",
    "check_appointment",
    "check_slot_bundle",
    "normalise_phone",
    "operation_outcome",
    "parse_identifier_param",
    "parse_regulator",
    "parse_slot_search",
    "validate",
]
