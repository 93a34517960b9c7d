"""INT_R03: the FrAppointmentSAS resource we push to the SAS for a regulator's booking."""

from __future__ import annotations

from typing import Any

from app.sas.mapping import fhir_instant
from app.sas.profiles import (
    EXT_APPOINTMENT_OPERATOR,
    PROFILE_APPOINTMENT,
    SYSTEM_IDNPS,
    TYPE_SYSTEM_V2_0203_LEGACY,
)
from app.sas.views import AppointmentView

# FrAppointmentSAS fixes the identifier type system to the guide's $fr-v2-0203 alias, which
# is the interopsante URL (as in both shared Appointment examples), not the FR Core one.
APPOINTMENT_TYPE_SYSTEM = TYPE_SYSTEM_V2_0203_LEGACY


def build_appointment(view: AppointmentView, *, fhir_base_url: str | None = None) -> dict:
    """The Appointment to POST (first push) or conditionally PUT (every later change).

    With ``fhir_base_url`` the booked Slot is referenced by its absolute URL on our server.
    """
    operator = view.operator
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "meta": {"profile": [PROFILE_APPOINTMENT]},
        "extension": [
            {
                "url": EXT_APPOINTMENT_OPERATOR,
                "valueReference": {
                    "identifier": {
                        "type": {
                            "coding": [
                                {"system": APPOINTMENT_TYPE_SYSTEM, "code": operator.type_code}
                            ]
                        },
                        "system": operator.system,
                        "value": operator.value,
                    }
                },
            }
        ],
        "identifier": [{"system": view.identifier_system, "value": view.identifier_value}],
        "status": view.status,
        "start": fhir_instant(view.start),
        "end": fhir_instant(view.end),
        "created": fhir_instant(view.created),
        "participant": [
            {
                "actor": {
                    "identifier": {
                        "type": {"coding": [{"system": APPOINTMENT_TYPE_SYSTEM, "code": "IDNPS"}]},
                        "system": SYSTEM_IDNPS,
                        "value": view.practitioner_idnps,
                    }
                },
                "status": "accepted",
            }
        ],
    }
    if view.status == "cancelled" and view.cancellation_reason:
        resource["cancelationReason"] = {"text": view.cancellation_reason}
    if fhir_base_url and view.slot_id:
        resource["slot"] = [{"reference": f"{fhir_base_url.rstrip('/')}/Slot/{view.slot_id}"}]
    return resource
