"""Teleconsultation slots: batch assignment of requests to GP slots with CP-SAT.

Slots are cut from each usable teleconsultation session (adjoint rule applied)
at the GP's own slot length. Served requests are worth most (by urgency), then
continuity, then a fair spread of load, then earlier slots for urgent people.
CP-SAT runs with one worker and a fixed seed, so it is deterministic.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from scheduler.eligibility import session_spans
from scheduler.model import Instance, Parameters, SessionKind, TeleconsultationRequest, Urgency

logger = logging.getLogger(__name__)

SERVE_WEIGHT = {Urgency.SAME_DAY: 100_000, Urgency.WITHIN_24H: 30_000, Urgency.WITHIN_48H: 10_000}
CONTINUITY_WEIGHT = 500
FAIRNESS_WEIGHT = 200
EARLY_WEIGHT = {Urgency.SAME_DAY: 3, Urgency.WITHIN_24H: 1, Urgency.WITHIN_48H: 0}


@dataclass(frozen=True)
class Slot:
    """A bookable teleconsultation slot."""

    practitioner_id: str
    start: int
    end: int


@dataclass(frozen=True)
class Assignment:
    """A request booked into a slot."""

    request_id: str
    slot: Slot


@dataclass(frozen=True)
class Unassigned:
    """A request left without a slot, and why."""

    request_id: str
    urgency: Urgency
    reason: str


@dataclass(frozen=True)
class TeleconsultationResult:
    """The batch assignment: bookings, requests left out with reasons, loads, objective."""

    assignments: tuple[Assignment, ...]
    unassigned: tuple[Unassigned, ...]
    loads: dict[str, int]
    objective: dict[str, int] = field(default_factory=dict)
    status: str = ""

    def slot_of(self, request_id: str) -> Slot | None:
        """The slot given to a request, if any."""
        return next((a.slot for a in self.assignments if a.request_id == request_id), None)

    def check(self) -> list[str]:
        """Double bookings or double assignments (empty when consistent)."""
        problems = []
        slots = [(a.slot.practitioner_id, a.slot.start) for a in self.assignments]
        if len(set(slots)) != len(slots):
            problems.append("a slot is booked twice")
        ids = [a.request_id for a in self.assignments] + [u.request_id for u in self.unassigned]
        if len(set(ids)) != len(ids):
            problems.append("a request is both assigned and unassigned, or twice")
        return problems


def build_slots(instance: Instance) -> tuple[list[Slot], dict[str, str]]:
    """Every slot of every usable teleconsultation session, at each GP's slot length."""
    spans, excluded = session_spans(instance, SessionKind.TELECONSULTATION)
    slots = []
    for s in spans:
        length = instance.practitioner(s.practitioner_id).slot_minutes
        t = s.start
        while t + length <= s.end:
            slots.append(Slot(s.practitioner_id, t, t + length))
            t += length
    return sorted(set(slots), key=lambda x: (x.start, x.practitioner_id)), excluded


def eligible(instance: Instance, request: TeleconsultationRequest, slot: Slot) -> bool:
    """Language (hard), earliest time and deadline (the consultation must end by it)."""
    p = instance.practitioner(slot.practitioner_id)
    if not p.speaks(request.language) or slot.start < request.earliest:
        return False
    return request.deadline is None or slot.end <= request.deadline


def unassigned_reason(
    instance: Instance, request: TeleconsultationRequest, slots: list[Slot]
) -> str:
    """Hardest rule first: nobody on duty, language, deadline, then full slots."""
    if not slots:
        return "no_practitioner_on_duty"
    speakers = [
        s for s in slots if instance.practitioner(s.practitioner_id).speaks(request.language)
    ]
    if not speakers:
        return "language"
    if not any(eligible(instance, request, s) for s in speakers):
        return "deadline"
    if request.booked is not None:
        return "booked_slot_unavailable"
    return "capacity"


def add_one_slot_each(model: cp_model.CpModel, x: dict[tuple[int, int], cp_model.IntVar]) -> None:
    """A request gets at most one slot and a slot at most one request."""
    by_req, by_slot = defaultdict(list), defaultdict(list)
    for (r, s), var in x.items():
        by_req[r].append(var)
        by_slot[s].append(var)
    for group in (*by_req.values(), *by_slot.values()):
        model.add_at_most_one(group)


def add_hourly_cap(
    model: cp_model.CpModel,
    instance: Instance,
    slots: list[Slot],
    x: dict[tuple[int, int], cp_model.IntVar],
) -> None:
    """At most ``max_teleconsultations_per_hour`` per GP in any clock hour."""
    buckets: dict[tuple[str, int], list[cp_model.IntVar]] = defaultdict(list)
    for (_r, s), var in x.items():
        buckets[(slots[s].practitioner_id, slots[s].start // 60)].append(var)
    for (pid, _hour), group in buckets.items():
        cap = instance.practitioner(pid).max_teleconsultations_per_hour
        if cap is not None:
            model.add(sum(group) <= cap)


def add_fairness(
    model: cp_model.CpModel, slots: list[Slot], x: dict[tuple[int, int], cp_model.IntVar]
) -> cp_model.IntVar:
    """The heaviest GP load, to be minimised (fair spread across the team)."""
    loads: dict[str, list[cp_model.IntVar]] = defaultdict(list)
    for (_r, s), var in x.items():
        loads[slots[s].practitioner_id].append(var)
    top = model.new_int_var(0, len(slots), "max_load")
    for group in loads.values():
        model.add(sum(group) <= top)
    return top


def assign_teleconsultations(
    instance: Instance,
    params: Parameters | None = None,
    requests: tuple[TeleconsultationRequest, ...] | None = None,
) -> TeleconsultationResult:
    """Book the day's teleconsultation requests into GP slots (booked slots kept hard)."""
    params = params or Parameters()
    todo = instance.teleconsultations if requests is None else requests
    slots, _excluded = build_slots(instance)
    slot_index = {(s.practitioner_id, s.start): i for i, s in enumerate(slots)}
    model = cp_model.CpModel()
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    for r, req in enumerate(todo):
        if req.booked is not None:
            s = slot_index.get((req.booked.practitioner_id, req.booked.start))
            candidates = [s] if s is not None else []
        else:
            candidates = [i for i, s in enumerate(slots) if eligible(instance, req, s)]
        for s in candidates:
            x[r, s] = model.new_bool_var(f"x_{req.id}_{slots[s].practitioner_id}_{slots[s].start}")
        if req.booked is not None and candidates:
            model.add(x[r, candidates[0]] == 1)
    add_one_slot_each(model, x)
    add_hourly_cap(model, instance, slots, x)
    top = add_fairness(model, slots, x)
    served = sum(SERVE_WEIGHT[todo[r].urgency] * v for (r, _s), v in x.items())
    continuity = sum(
        CONTINUITY_WEIGHT * v
        for (r, s), v in x.items()
        if todo[r].preferred_practitioner_id == slots[s].practitioner_id
    )
    early = sum(
        EARLY_WEIGHT[todo[r].urgency] * (slots[s].start - todo[r].earliest) // 15 * v
        for (r, s), v in x.items()
    )
    model.maximize(served + continuity - FAIRNESS_WEIGHT * top - early)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = params.time_limit_s
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = params.seed
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        logger.warning("teleconsultation assignment: %s", solver.status_name(status))
        chosen: set[tuple[int, int]] = set()
    else:
        chosen = {key for key, v in x.items() if solver.boolean_value(v)}
    assignments = tuple(
        Assignment(todo[r].id, slots[s]) for r, s in sorted(chosen, key=lambda k: slots[k[1]].start)
    )
    got = {r for r, _s in chosen}
    unassigned = tuple(
        Unassigned(req.id, req.urgency, unassigned_reason(instance, req, slots))
        for r, req in enumerate(todo)
        if r not in got
    )
    loads = {p.id: 0 for p in instance.practitioners}
    for a in assignments:
        loads[a.slot.practitioner_id] += 1
    kept = sum(
        1 for r, s in chosen if todo[r].preferred_practitioner_id == slots[s].practitioner_id
    )
    objective = {
        "served": len(chosen),
        "continuity_kept": kept,
        "max_load": max(loads.values(), default=0),
    }
    return TeleconsultationResult(
        assignments, unassigned, loads, objective, solver.status_name(status)
    )
