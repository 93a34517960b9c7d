"""Premier Recours scheduler: a pure library that turns a day's requests into plans.

Frozen dataclasses in (:class:`Practitioner`, :class:`Session`, :class:`Visit`,
:class:`TeleconsultationRequest`, :class:`Instance`, :class:`Parameters`);
:func:`solve_rounds`, :func:`assign_teleconsultations`, :func:`propose` and
:func:`replan` out, each returning a result that checks and explains itself.
"""

from scheduler.model import (
    DEFAULT_PENALTIES,
    Instance,
    Parameters,
    Practitioner,
    Session,
    SessionKind,
    SlotRef,
    Status,
    TeleconsultationRequest,
    Urgency,
    Visit,
    Window,
)
from scheduler.propose import Proposal, propose
from scheduler.replan import ReplanResult, replan
from scheduler.results import DroppedVisit, DropReason, RoundsResult, Route, Stop
from scheduler.rounds import narrow_window, plan_from_orders, solve_rounds
from scheduler.solomon import SolomonInstance, SolomonResult, read_solomon, solve_solomon
from scheduler.teleconsult import (
    Assignment,
    Slot,
    TeleconsultationResult,
    Unassigned,
    assign_teleconsultations,
)
from scheduler.travel import (
    HaversineTravelTime,
    OsrmTravelTime,
    TravelTimeProvider,
    haversine_km,
)

__all__ = [
    "DEFAULT_PENALTIES",
    "Assignment",
    "DropReason",
    "DroppedVisit",
    "HaversineTravelTime",
    "Instance",
    "OsrmTravelTime",
    "Parameters",
    "Practitioner",
    "Proposal",
    "ReplanResult",
    "RoundsResult",
    "Route",
    "Session",
    "SessionKind",
    "Slot",
    "SlotRef",
    "SolomonInstance",
    "SolomonResult",
    "Status",
    "Stop",
    "TeleconsultationRequest",
    "TeleconsultationResult",
    "TravelTimeProvider",
    "Unassigned",
    "Urgency",
    "Visit",
    "Window",
    "assign_teleconsultations",
    "haversine_km",
    "narrow_window",
    "plan_from_orders",
    "propose",
    "read_solomon",
    "replan",
    "solve_rounds",
    "solve_solomon",
]
