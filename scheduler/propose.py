"""Live proposals for a secretary on the phone: the k best options keeping every promise.

Home visits: cheapest feasible insertion of the new visit into each GP's
current round, every later stop re-timed exactly against its hard window
(promises included) — no re-solve, so it answers in milliseconds.
Teleconsultations: the earliest free eligible slot of each GP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from scheduler.model import (
    Instance,
    Parameters,
    SessionKind,
    TeleconsultationRequest,
    Visit,
    Window,
)
from scheduler.plan import build_rounds_model, time_route
from scheduler.results import RoundsResult
from scheduler.rounds import narrow_window, solve_rounds
from scheduler.teleconsult import TeleconsultationResult, build_slots, eligible
from scheduler.travel import TravelTimeProvider


@dataclass(frozen=True)
class Proposal:
    """One option: who, when, the window or slot, the extra travel, and why.

    ``reason`` is a short code (``continuity``, ``least_detour``,
    ``earliest_slot``…); the app turns it into French for people.
    """

    practitioner_id: str
    day: date
    kind: SessionKind
    window: Window
    arrival: int
    added_travel_minutes: float
    position: int
    reason: str


def propose(
    instance: Instance,
    new_request: Visit | TeleconsultationRequest,
    k: int = 5,
    *,
    plan: RoundsResult | TeleconsultationResult | None = None,
    params: Parameters | None = None,
    travel: TravelTimeProvider | None = None,
) -> list[Proposal]:
    """The ``k`` best options for ``new_request`` on the instance's day, one per GP.

    ``plan`` is the current rounds (for a visit) or slot assignment (for a
    teleconsultation); without it a first-solution plan is made for visits
    and the instance's booked slots are used for teleconsultations.
    """
    params = params or Parameters()
    if isinstance(new_request, TeleconsultationRequest):
        taken = plan if isinstance(plan, TeleconsultationResult) else None
        return _propose_slot(instance, new_request, k, taken)
    rounds = plan if isinstance(plan, RoundsResult) else None
    if rounds is None:
        rounds = solve_rounds(instance, params, travel=travel, first_solution_only=True)
    return _propose_visit(instance, new_request, k, rounds, params, travel)


def _propose_visit(
    instance: Instance,
    visit: Visit,
    k: int,
    rounds: RoundsResult,
    params: Parameters,
    travel: TravelTimeProvider | None,
) -> list[Proposal]:
    visits = tuple(v for v in instance.visits if v.id != visit.id) + (visit,)
    model = build_rounds_model(instance, params, travel, visits)
    problem = model.problem
    new = len(visits) - 1
    cust = problem.customers[new]
    index = {v.id: i for i, v in enumerate(visits)}
    options = []
    for v, duty in enumerate(model.duties):
        if cust.allowed_vehicles is not None and v not in cust.allowed_vehicles:
            continue
        old_route = rounds.route_of(duty.practitioner.id)
        stops = old_route.stops if old_route else ()
        route = [index[s.visit_id] for s in stops if s.visit_id in index]
        route = [c for c in route if c != new]
        base = time_route(problem, v, route).travel
        best = None
        for pos in range(len(route) + 1):
            trial = route[:pos] + [new] + route[pos:]
            timing = time_route(problem, v, trial)
            if not timing.feasible:
                continue
            added = timing.travel - base
            continuity = visit.preferred_practitioner_id == duty.practitioner.id
            score = added - (params.continuity_penalty if continuity else 0)
            key = (score, timing.arrivals[pos], pos)
            if best is None or key < best[0]:
                best = (key, pos, timing.arrivals[pos] // 60, added, continuity)
        if best is None:
            continue
        _key, pos, arrival, added, continuity = best
        hard = Window(cust.earliest // 60, cust.latest // 60)
        options.append(
            (
                _key,
                Proposal(
                    practitioner_id=duty.practitioner.id,
                    day=instance.day,
                    kind=SessionKind.HOME_VISIT,
                    window=narrow_window(arrival, hard, params.window_width),
                    arrival=arrival,
                    added_travel_minutes=round(added / 60, 1),
                    position=pos,
                    reason="continuity" if continuity else "least_detour",
                ),
            )
        )
    options.sort(key=lambda o: o[0])
    return [p for _key, p in options[:k]]


def _propose_slot(
    instance: Instance,
    request: TeleconsultationRequest,
    k: int,
    taken: TeleconsultationResult | None,
) -> list[Proposal]:
    slots, _excluded = build_slots(instance)
    booked = {
        (r.booked.practitioner_id, r.booked.start) for r in instance.teleconsultations if r.booked
    }
    loads: dict[str, int] = {}
    if taken is not None:
        for a in taken.assignments:
            booked.add((a.slot.practitioner_id, a.slot.start))
    for pid, _start in booked:
        loads[pid] = loads.get(pid, 0) + 1
    first: dict[str, Proposal] = {}
    for s in slots:
        if (s.practitioner_id, s.start) in booked or s.practitioner_id in first:
            continue
        if not eligible(instance, request, s):
            continue
        continuity = request.preferred_practitioner_id == s.practitioner_id
        first[s.practitioner_id] = Proposal(
            practitioner_id=s.practitioner_id,
            day=instance.day,
            kind=SessionKind.TELECONSULTATION,
            window=Window(s.start, s.end),
            arrival=s.start,
            added_travel_minutes=0.0,
            position=0,
            reason="continuity" if continuity else "earliest_slot",
        )
    ranked = sorted(
        first.values(),
        key=lambda p: (p.reason != "continuity", p.arrival, loads.get(p.practitioner_id, 0)),
    )
    return ranked[:k]
