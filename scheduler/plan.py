"""From a day's instance to a routing problem, and the exact timing of a route.

Internally times are integer **seconds** from midnight (minutes are too coarse
for 2–5 minute hops between neighbouring communes); the public results are
given back in minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from scheduler.eligibility import Duty, duties
from scheduler.model import Instance, Parameters, SessionKind, Visit
from scheduler.travel import HaversineTravelTime, TravelTimeProvider
from scheduler.vrp import Customer, RoutingProblem, Vehicle

HORIZON_S = 24 * 3600


@dataclass(frozen=True)
class RoundsModel:
    """The routing problem of a morning plus what is needed to map results back."""

    instance: Instance
    params: Parameters
    duties: tuple[Duty, ...]
    excluded: dict[str, str]
    visits: tuple[Visit, ...]
    problem: RoutingProblem
    minutes: NDArray[np.float64]

    @property
    def travel(self) -> NDArray[np.int64]:
        """Travel seconds between points (depots first, then visits)."""
        return self.problem.travel

    def visit_point(self, k: int) -> int:
        """Point index of the k-th visit."""
        return len(self.duties) + k


def default_provider(params: Parameters) -> TravelTimeProvider:
    """The offline provider with the parameters' circuity and speed."""
    return HaversineTravelTime(circuity=params.circuity, speed_kmh=params.speed_kmh)


def to_seconds(minutes: NDArray[np.float64]) -> NDArray[np.int64]:
    """Round a minute matrix to whole seconds, zero diagonal."""
    out = np.rint(np.asarray(minutes) * 60.0).astype(np.int64)
    np.fill_diagonal(out, 0)
    return out


def add_visit_window(visit: Visit, duty_span: tuple[int, int]) -> tuple[int, int] | None:
    """Hard arrival window in seconds: the patient's window, deadline, promise and the day."""
    hard = visit.hard_window()
    if hard is None:
        return None
    lo, hi = max(hard.start, duty_span[0]), min(hard.end, duty_span[1])
    return (lo * 60, hi * 60) if lo <= hi else None


def continuity_row_costs(
    travel: NDArray[np.int64],
    visits: tuple[Visit, ...],
    duty_list: list[Duty],
    penalty: int,
    classes: list[int],
) -> tuple[NDArray[np.int64], tuple[NDArray[np.int64], ...]]:
    """:func:`add_continuity_costs` as travel plus, per class, a penalty per point *left*.

    The penalty is charged on the arc leaving a visit instead of the arc arriving
    there: every visit served has one arc in and one arc out, so every plan, and every
    insertion, costs the same either way. ``RoutingProblem.row_costs``: for the first
    plan the engine registers one matrix instead of one per class (scheduler.routing).
    """
    nd = len(duty_list)
    common = travel.copy()
    np.fill_diagonal(common, 0)
    owner = {c: duty.practitioner.id for duty, c in zip(duty_list, classes, strict=True) if c}
    preferring: dict[str, list[int]] = {}
    for k, v in enumerate(visits):
        if v.preferred_practitioner_id is not None:
            preferring.setdefault(v.preferred_practitioner_id, []).append(nd + k)
    base = np.zeros(travel.shape[0], dtype=np.int64)
    for points in preferring.values():
        base[points] = penalty
    offsets = [base]
    for c in range(1, max(classes, default=0) + 1):
        row = base.copy()
        row[preferring.get(owner[c], [])] = 0
        offsets.append(row)
    return common, tuple(offsets)


def add_continuity_costs(
    travel: NDArray[np.int64], visits: tuple[Visit, ...], duty_list: list[Duty], penalty: int
) -> tuple[tuple[NDArray[np.int64], ...], list[int]]:
    """One cost matrix per GP who is someone's preferred GP; others share the base.

    Arriving at a visit whose patient prefers another GP costs ``penalty``
    extra (soft continuity of care).
    """
    nd = len(duty_list)
    prefers = {k: v.preferred_practitioner_id for k, v in enumerate(visits)}
    base = travel.copy()
    for k, pid in prefers.items():
        if pid is not None:
            base[:, nd + k] += penalty
    costs = [base]
    classes = []
    cache: dict[str, int] = {}
    for duty in duty_list:
        pid = duty.practitioner.id
        mine = [k for k, want in prefers.items() if want == pid]
        if not mine:
            classes.append(0)
            continue
        if pid not in cache:
            m = base.copy()
            for k in mine:
                m[:, nd + k] -= penalty
            cache[pid] = len(costs)
            costs.append(m)
        classes.append(cache[pid])
    for m in costs:
        np.fill_diagonal(m, 0)
    return tuple(costs), classes


def build_rounds_model(
    instance: Instance,
    params: Parameters,
    travel: TravelTimeProvider | None = None,
    visits: tuple[Visit, ...] | None = None,
) -> RoundsModel:
    """Vehicles for the GPs allowed on the rounds, customers for the visits."""
    duty_list, excluded = duties(instance, SessionKind.HOME_VISIT)
    chosen = instance.visits if visits is None else visits
    points = [(d.practitioner.lat, d.practitioner.lon) for d in duty_list]
    points += [(v.lat, v.lon) for v in chosen]
    provider = travel or default_provider(params)
    minutes = provider.matrix(points) if points else np.zeros((0, 0))
    seconds = to_seconds(minutes)
    nd = len(duty_list)
    vehicles = []
    for i, d in enumerate(duty_list):
        vehicles.append(
            Vehicle(
                start=i,
                end=i,
                earliest=d.start * 60,
                latest=(d.end + params.return_allowance) * 60,
                capacity=d.practitioner.max_visits,
                soft_latest=d.end * 60,
                overtime_cost=max(0, params.overtime_cost),
            )
        )
    day = (min(d.start for d in duty_list), max(d.end for d in duty_list)) if duty_list else (0, 0)
    customers = []
    # The GPs allowed depend on the language and the pinned GP only: computed once
    # per pair (a 320-visit morning with 60 GPs has a handful of pairs).
    allowed_for: dict[tuple[str | None, str | None], tuple[int, ...]] = {}
    for v in chosen:
        window = add_visit_window(v, day)
        key = (v.language, v.assigned_practitioner_id)
        if key not in allowed_for:
            allowed_for[key] = tuple(
                i
                for i, d in enumerate(duty_list)
                if d.practitioner.speaks(v.language)
                and v.assigned_practitioner_id in (None, d.practitioner.id)
            )
        allowed = allowed_for[key]
        penalty = params.promised_penalty if v.promised else params.penalties[v.urgency]
        if window is None:
            window, allowed = (0, 0), ()
        customers.append(
            Customer(
                earliest=window[0],
                latest=window[1],
                service=v.service_minutes * 60,
                demand=1,
                penalty=penalty,
                allowed_vehicles=allowed if len(allowed) < nd else None,
            )
        )
    costs, classes = add_continuity_costs(seconds, chosen, duty_list, params.continuity_penalty)
    vehicles = [replace(v, cost_class=c) for v, c in zip(vehicles, classes, strict=True)]
    row_costs = continuity_row_costs(seconds, chosen, duty_list, params.continuity_penalty, classes)
    problem = RoutingProblem(seconds, costs, nd, tuple(customers), tuple(vehicles), row_costs)
    return RoundsModel(
        instance, params, tuple(duty_list), excluded, tuple(chosen), problem, minutes
    )


@dataclass(frozen=True)
class Timing:
    """Earliest-start timing of a route: arrivals per stop, return time, feasibility."""

    arrivals: tuple[int, ...]
    back: int
    travel: int
    feasible: bool


def time_route(problem: RoutingProblem, vehicle: int, route: list[int] | tuple[int, ...]) -> Timing:
    """Leave at the session start, wait for windows to open; exact check of every window."""
    veh = problem.vehicles[vehicle]
    nd = problem.num_depots
    t, at, travel, ok = veh.earliest, veh.start, 0, True
    arrivals = []
    for c in route:
        cust = problem.customers[c]
        leg = int(problem.travel[at, nd + c])
        travel += leg
        t = max(t + leg, cust.earliest)
        ok = ok and t <= cust.latest
        arrivals.append(t)
        t += cust.service
        at = nd + c
    leg = int(problem.travel[at, veh.end])
    travel += leg
    t += leg
    ok = ok and t <= veh.latest and len(route) <= veh.capacity
    return Timing(tuple(arrivals), t, travel, ok)
