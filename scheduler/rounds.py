"""Morning rounds: a multi-depot VRPTW over the GPs on duty, solved with OR-Tools."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from scheduler.model import Instance, Parameters, Visit, Window
from scheduler.plan import RoundsModel, build_rounds_model, time_route
from scheduler.results import DroppedVisit, DropReason, RoundsResult, Route, Stop
from scheduler.routing import resolved_search, solve_routing
from scheduler.travel import TravelTimeProvider
from scheduler.vrp import RoutingSolution

logger = logging.getLogger(__name__)


def narrow_window(arrival: int, hard: Window, width: int) -> Window:
    """A ``width``-minute window around ``arrival``, inside the hard window when it fits."""
    if hard.end - hard.start <= width:
        return hard
    start = min(max(arrival - width // 2, hard.start), hard.end - width)
    return Window(start, start + width)


def drop_reason(model: RoundsModel, k: int, loads: list[int]) -> DropReason:
    """Why visit ``k`` is out: checked from the hardest rule to the softest."""
    problem, visit = model.problem, model.visits[k]
    if not model.duties:
        return DropReason.NO_PRACTITIONER_ON_DUTY
    pinned = visit.assigned_practitioner_id
    if pinned is not None and all(d.practitioner.id != pinned for d in model.duties):
        return DropReason.NO_PRACTITIONER_ON_DUTY
    speakers = [
        i
        for i, d in enumerate(model.duties)
        if d.practitioner.speaks(visit.language) and pinned in (None, d.practitioner.id)
    ]
    if not speakers:
        return DropReason.LANGUAGE
    alone = [i for i in speakers if _fits_alone(model, i, k)]
    if not alone:
        return DropReason.PROMISE_UNREACHABLE if visit.promised else DropReason.OUTSIDE_SESSIONS
    if all(loads[i] >= problem.vehicles[i].capacity for i in alone):
        return DropReason.CAPACITY
    return DropReason.TIME


def _fits_alone(model: RoundsModel, vehicle: int, k: int) -> bool:
    cust = model.problem.customers[k]
    if cust.latest < cust.earliest or (cust.allowed_vehicles == ()):
        return False
    if model.problem.vehicles[vehicle].capacity < 1:
        return True  # served alone it fits in time; the capacity check says why not
    return time_route(model.problem, vehicle, [k]).feasible


def assemble(model: RoundsModel, sol: RoutingSolution) -> RoundsResult:
    """Turn solver routes into timed stops with narrowed windows, and explain drops."""
    params, problem = model.params, model.problem
    routes, loads = [], []
    travel_s = continuity = overtime = 0
    missed = []
    for v, route in enumerate(sol.routes):
        duty = model.duties[v]
        timing = time_route(problem, v, route)
        if not timing.feasible:
            logger.error("route of %s failed its own timing check", duty.practitioner.id)
        stops, at = [], v
        cost = problem.costs[problem.vehicles[v].cost_class]
        for c, arrival_s in zip(route, timing.arrivals, strict=True):
            visit = model.visits[c]
            point = model.visit_point(c)
            arrival = arrival_s // 60
            hard = Window(problem.customers[c].earliest // 60, problem.customers[c].latest // 60)
            stops.append(
                Stop(
                    visit_id=visit.id,
                    arrival=arrival,
                    window=narrow_window(arrival, hard, params.window_width),
                    service_minutes=visit.service_minutes,
                    travel_minutes=round(float(problem.travel[at, point]) / 60, 2),
                )
            )
            continuity += int(cost[at, point] - problem.travel[at, point])
            if visit.preferred_practitioner_id not in (None, duty.practitioner.id):
                missed.append(visit.id)
            at = point
        continuity += int(cost[at, v] - problem.travel[at, v])
        travel_s += timing.travel
        if route:
            overtime += problem.vehicles[v].overtime(timing.back)
        loads.append(len(route))
        routes.append(
            Route(
                practitioner_id=duty.practitioner.id,
                stops=tuple(stops),
                depart=(timing.arrivals[0] - int(problem.travel[v, model.visit_point(route[0])]))
                // 60
                if route
                else duty.start,
                back=-(-timing.back // 60),
                travel_minutes=round(timing.travel / 60, 2),
            )
        )
    dropped = tuple(
        DroppedVisit(model.visits[k].id, model.visits[k].urgency, drop_reason(model, k, loads))
        for k in sol.dropped
    )
    penalty = problem.drop_penalty(sol.dropped)
    objective = {
        "travel": travel_s,
        "continuity": continuity,
        "dropped": penalty,
        "overtime": overtime,
        "total": travel_s + continuity + penalty + overtime,
    }
    return RoundsResult(
        day=model.instance.day,
        routes=tuple(routes),
        dropped=dropped,
        travel_minutes=round(travel_s / 60, 2),
        objective=objective,
        continuity_missed=tuple(missed),
        excluded_practitioners=dict(model.excluded),
        stopped_by=sol.stopped_by,
        solutions=sol.solutions,
        wall_time_s=sol.wall_time_s,
        search=sol.search,
    )


def solve_rounds(
    instance: Instance,
    params: Parameters | None = None,
    *,
    travel: TravelTimeProvider | None = None,
    visits: tuple[Visit, ...] | None = None,
    initial: RoundsResult | None = None,
    first_solution_only: bool = False,
) -> RoundsResult:
    """Plan every GP's morning round: least travel, hard windows, drops by urgency.

    Parameters
    ----------
    instance
        The day: team, sessions and visits.
    params
        Time limit, seed, penalties, window width…; defaults when None.
    travel
        Travel-time provider; haversine with ``params``' circuity and speed by default.
    visits
        Override of ``instance.visits`` (re-planning).
    initial
        A previous plan (its feasible part is kept): improved and compared with
        a fresh search, or the starting point of GLS (scheduler.routing).
    first_solution_only
        Stop after the insertion heuristic (the fastest feasible plan).
    """
    params = params or Parameters()
    model = build_rounds_model(instance, params, travel, visits)
    if not model.duties:
        loads: list[int] = []
        dropped = tuple(
            DroppedVisit(v.id, v.urgency, drop_reason(model, k, loads))
            for k, v in enumerate(model.visits)
        )
        return RoundsResult(
            instance.day, (), dropped, 0.0, {}, excluded_practitioners=dict(model.excluded)
        )
    initial_routes = _initial_routes(model, initial) if initial else None
    sol = solve_model(model, initial_routes, first_solution_only=first_solution_only)
    return assemble(model, sol)


def solve_model(
    model: RoundsModel,
    initial_routes: list[list[int]] | None = None,
    *,
    first_solution_only: bool = False,
) -> RoutingSolution:
    """Run the routing engine on a morning's model with its parameters' search and budget."""
    params = model.params
    search = "descent" if first_solution_only else resolved_search(model.problem, params.search)
    return solve_routing(
        model.problem,
        time_limit_s=params.time_limit_s,
        # One solution = the insertion heuristic's plan, before any local search.
        work_limit=1
        if first_solution_only
        else params.effective_work_limit(len(model.visits), search),
        seed=params.seed,
        first_solution=params.first_solution,
        metaheuristic=search,
        initial_routes=initial_routes,
        gls_lambda=params.gls_lambda,
        gls_reset_penalties=params.gls_reset_penalties,
        rivals=params.rival_first_solutions,
        recombine_rounds=params.recombine_rounds,
        region_vehicles=params.region_vehicles,
    )


def _initial_routes(model: RoundsModel, plan: RoundsResult) -> list[list[int]]:
    """Previous routes in model indices, keeping only stops still present and feasible."""
    index = {v.id: k for k, v in enumerate(model.visits)}
    routes = []
    for v, duty in enumerate(model.duties):
        old = plan.route_of(duty.practitioner.id)
        route: list[int] = []
        for vid in old.visit_ids if old else ():
            k = index.get(vid)
            if k is None:
                continue
            allowed = model.problem.customers[k].allowed_vehicles
            if allowed is not None and v not in allowed:
                continue
            if time_route(model.problem, v, [*route, k]).feasible:
                route.append(k)
        routes.append(route)
    return routes


def plan_from_orders(
    instance: Instance,
    orders: Mapping[str, Sequence[str]],
    params: Parameters | None = None,
    *,
    travel: TravelTimeProvider | None = None,
) -> RoundsResult | None:
    """Re-time a plan in force from each GP's visit order, without searching.

    ``orders`` maps a practitioner id to visit ids in visiting order (unknown
    ids are ignored; visits in no order are reported dropped). Returns None
    when an order breaks a hard rule (a window, a promise, the capacity).
    """
    params = params or Parameters()
    model = build_rounds_model(instance, params, travel)
    index = {v.id: k for k, v in enumerate(model.visits)}
    routes = []
    for v, duty in enumerate(model.duties):
        route = tuple(index[vid] for vid in orders.get(duty.practitioner.id, ()) if vid in index)
        allowed_everywhere = all(
            (allowed := model.problem.customers[c].allowed_vehicles) is None or v in allowed
            for c in route
        )
        if not allowed_everywhere or not time_route(model.problem, v, route).feasible:
            return None
        routes.append(route)
    served = {c for r in routes for c in r}
    if len(served) != sum(len(r) for r in routes):
        return None
    dropped = tuple(c for c in range(len(model.visits)) if c not in served)
    return assemble(model, RoutingSolution(tuple(routes), dropped, 0, 0.0, 0, "given"))
