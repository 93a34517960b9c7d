"""The OR-Tools routing engine shared by the morning rounds and the Solomon benchmark.

A :class:`RoutingProblem` is a plain, solver-agnostic VRPTW: points ``0..D-1``
are depots, points ``D..`` are customers; times and costs are integers in one
unit (seconds for rounds, DIMACS tenths for Solomon). Each family of
constraints is added by its own ``add_<rule>`` helper.

Determinism: OR-Tools' local search is deterministic for a given model, but a
wall-clock time limit cuts it at a machine-dependent point. The search is
therefore stopped by a *solution limit* (a count of accepted local-search
solutions, see :meth:`Parameters.effective_work_limit`) and the time limit is
only a safety cap; :attr:`RoutingSolution.stopped_by` says which one fired.
The seed permutes the customers' order in the model, which changes insertion
and neighbourhood tie-breaks, hence the search trajectory.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

logger = logging.getLogger(__name__)

IntMatrix = NDArray[np.int64]


@dataclass(frozen=True)
class Customer:
    """A node to visit: arrival window, service time, demand, drop penalty, allowed vehicles."""

    earliest: int
    latest: int
    service: int
    demand: int = 1
    penalty: int | None = None
    allowed_vehicles: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Vehicle:
    """A vehicle leaving ``start`` from ``earliest`` and back at ``end`` by ``latest``.

    ``soft_latest`` (None: none) is when the vehicle *should* be back: each
    time unit it returns later costs ``overtime_cost`` (a GP's overtime after
    the session end; ``latest`` stays the hard limit).
    """

    start: int
    end: int
    earliest: int
    latest: int
    capacity: int
    cost_class: int = 0
    soft_latest: int | None = None
    overtime_cost: int = 0

    def overtime(self, back: int) -> int:
        """Cost of returning at ``back`` (0 without a soft return time)."""
        if self.soft_latest is None or self.overtime_cost <= 0:
            return 0
        return max(0, back - self.soft_latest) * self.overtime_cost


@dataclass(frozen=True)
class RoutingProblem:
    """Travel times over all points, one cost matrix per cost class, customers, vehicles."""

    travel: IntMatrix
    costs: tuple[IntMatrix, ...]
    num_depots: int
    customers: tuple[Customer, ...]
    vehicles: tuple[Vehicle, ...]

    @property
    def num_points(self) -> int:
        """Depots plus customers."""
        return self.num_depots + len(self.customers)


@dataclass(frozen=True)
class RoutingSolution:
    """Routes as customer indices per vehicle, dropped customers and search facts."""

    routes: tuple[tuple[int, ...], ...]
    dropped: tuple[int, ...]
    objective: int
    wall_time_s: float
    solutions: int
    stopped_by: str
    found: bool = True
    notes: dict[str, float] = field(default_factory=dict)


_FS = routing_enums_pb2.FirstSolutionStrategy
FIRST_SOLUTIONS = {
    name: getattr(_FS, name)
    for name in (
        "PARALLEL_CHEAPEST_INSERTION",
        "LOCAL_CHEAPEST_INSERTION",
        "SEQUENTIAL_CHEAPEST_INSERTION",
        "SAVINGS",
    )
}


def add_travel_costs(
    routing: pywrapcp.RoutingModel, problem: RoutingProblem, perm: list[int]
) -> None:
    """Arc costs per vehicle from matrices registered natively (no Python callbacks)."""
    indices = [routing.RegisterTransitMatrix(_permuted(c, perm)) for c in problem.costs]
    for v, vehicle in enumerate(problem.vehicles):
        routing.SetArcCostEvaluatorOfVehicle(indices[vehicle.cost_class], v)


def add_time_windows(
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    problem: RoutingProblem,
    perm: list[int],
) -> pywrapcp.RoutingDimension:
    """Time dimension: travel plus service at the origin, waiting allowed, windows hard."""
    pos = _inverse(perm)
    service = np.zeros(problem.num_points, dtype=np.int64)
    service[problem.num_depots :] = [c.service for c in problem.customers]
    transit = problem.travel + service[:, None]
    horizon = int(max(v.latest for v in problem.vehicles))
    callback = routing.RegisterTransitMatrix(_permuted(transit, perm))
    routing.AddDimension(callback, horizon, horizon, False, "Time")
    dim = routing.GetDimensionOrDie("Time")
    for k, customer in enumerate(problem.customers):
        index = manager.NodeToIndex(pos[problem.num_depots + k])
        dim.CumulVar(index).SetRange(int(customer.earliest), int(customer.latest))
    for v, vehicle in enumerate(problem.vehicles):
        dim.CumulVar(routing.Start(v)).SetRange(int(vehicle.earliest), int(vehicle.latest))
        dim.CumulVar(routing.End(v)).SetRange(int(vehicle.earliest), int(vehicle.latest))
        if vehicle.soft_latest is not None and vehicle.overtime_cost > 0:
            dim.SetCumulVarSoftUpperBound(
                routing.End(v), int(vehicle.soft_latest), int(vehicle.overtime_cost)
            )
    return dim


def add_capacity(routing: pywrapcp.RoutingModel, problem: RoutingProblem, perm: list[int]) -> None:
    """Capacity dimension: for rounds, one unit per visit against a GP's maximum."""
    demand = [0] * problem.num_depots + [c.demand for c in problem.customers]
    callback = routing.RegisterUnaryTransitVector([int(demand[p]) for p in perm])
    capacities = [int(v.capacity) for v in problem.vehicles]
    routing.AddDimensionWithVehicleCapacity(callback, 0, capacities, True, "Capacity")


def add_allowed_vehicles(
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    problem: RoutingProblem,
    perm: list[int],
) -> None:
    """Hard vehicle restrictions (language, eligibility) per customer."""
    pos = _inverse(perm)
    for k, customer in enumerate(problem.customers):
        if customer.allowed_vehicles is None:
            continue
        index = manager.NodeToIndex(pos[problem.num_depots + k])
        if not customer.allowed_vehicles:
            # No vehicle may serve it: forbid the node outright (it must be optional).
            routing.solver().Add(routing.ActiveVar(index) == 0)
        else:
            # SetAllowedVehiclesForIndex's Span binding is broken in OR-Tools 9.15;
            # restricting the vehicle variable is equivalent (-1 = not performed).
            routing.VehicleVar(index).SetValues([-1, *customer.allowed_vehicles])


def add_drop_penalties(
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    problem: RoutingProblem,
    perm: list[int],
) -> None:
    """Optional customers: a disjunction each, paying the penalty when dropped."""
    pos = _inverse(perm)
    for k, customer in enumerate(problem.customers):
        if customer.penalty is None:
            continue
        index = manager.NodeToIndex(pos[problem.num_depots + k])
        routing.AddDisjunction([index], int(customer.penalty))


def search_parameters(
    *,
    time_limit_s: float,
    work_limit: int | None,
    first_solution: str,
    metaheuristic: bool = True,
    gls_lambda: float | None = None,
    gls_reset_penalties: bool = False,
) -> object:
    """Insertion first solution, then guided local search under a solution limit.

    ``gls_lambda`` is GLS's penalty weight (OR-Tools' default 0.1 when None):
    the Bièvre mornings, where promised windows and few visits per GP make
    deep local optima, escape them better with a stronger 0.5 (see
    benchmarks/RESULTS.md); Solomon does best at the default.
    """
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = FIRST_SOLUTIONS[first_solution]
    if metaheuristic:
        params.local_search_metaheuristic = (
            routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
        )
        if gls_lambda is not None:
            params.guided_local_search_lambda_coefficient = gls_lambda
        # Forget GLS penalties on each new best: helps the rounds out of plateaus.
        params.guided_local_search_reset_penalties_on_new_best_solution = gls_reset_penalties
    if work_limit is not None:
        params.solution_limit = int(work_limit)
    params.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
    return params


def solve_routing(
    problem: RoutingProblem,
    *,
    time_limit_s: float,
    work_limit: int | None,
    seed: int = 0,
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION",
    metaheuristic: bool = True,
    initial_routes: list[list[int]] | None = None,
    gls_lambda: float | None = None,
    gls_reset_penalties: bool = False,
) -> RoutingSolution:
    """Solve a :class:`RoutingProblem` with OR-Tools; routes are customer indices."""
    started = time.perf_counter()
    perm = _permutation(problem, seed)
    pos = _inverse(perm)
    starts = [pos[v.start] for v in problem.vehicles]
    ends = [pos[v.end] for v in problem.vehicles]
    manager = pywrapcp.RoutingIndexManager(problem.num_points, len(problem.vehicles), starts, ends)
    routing = pywrapcp.RoutingModel(manager)
    add_travel_costs(routing, problem, perm)
    add_time_windows(routing, manager, problem, perm)
    add_capacity(routing, problem, perm)
    add_allowed_vehicles(routing, manager, problem, perm)
    add_drop_penalties(routing, manager, problem, perm)
    params = search_parameters(
        time_limit_s=time_limit_s,
        work_limit=work_limit,
        first_solution=first_solution,
        metaheuristic=metaheuristic,
        gls_lambda=gls_lambda,
        gls_reset_penalties=gls_reset_penalties,
    )
    if work_limit is not None:
        # A search that accepts no new solution (a one-visit round) still
        # branches; bounding branches too keeps every stop deterministic.
        routing.AddSearchMonitor(routing.solver().BranchesLimit(50 * int(work_limit)))
    if initial_routes:
        model_routes = [
            [manager.NodeToIndex(pos[problem.num_depots + c]) for c in r] for r in initial_routes
        ]
        routing.CloseModelWithParameters(params)
        initial = routing.ReadAssignmentFromRoutes(model_routes, True)
        assignment = routing.SolveFromAssignmentWithParameters(initial, params)
    else:
        assignment = routing.SolveWithParameters(params)
    elapsed = time.perf_counter() - started
    solutions = int(routing.solver().Solutions())
    if assignment is None:
        logger.warning("routing found no solution in %.2fs", elapsed)
        empty = tuple(() for _ in problem.vehicles)
        return RoutingSolution(
            empty, tuple(range(len(problem.customers))), 0, elapsed, solutions, "none", False
        )
    routes = []
    for v in range(len(problem.vehicles)):
        route = []
        index = routing.NextVar(routing.Start(v))
        index = assignment.Value(index)
        while not routing.IsEnd(index):
            route.append(perm[manager.IndexToNode(index)] - problem.num_depots)
            index = assignment.Value(routing.NextVar(index))
        routes.append(tuple(route))
    served = {c for r in routes for c in r}
    dropped = tuple(c for c in range(len(problem.customers)) if c not in served)
    hit_work = work_limit is not None and (
        solutions >= work_limit or routing.solver().Branches() >= 50 * work_limit
    )
    stopped_by = "work_limit" if hit_work else "time_limit"
    if not hit_work and elapsed < time_limit_s * 0.98:
        stopped_by = "local_optimum"
    logger.debug("routing: %d solutions in %.2fs, stopped by %s", solutions, elapsed, stopped_by)
    return RoutingSolution(
        tuple(routes), dropped, int(assignment.ObjectiveValue()), elapsed, solutions, stopped_by
    )


def _permutation(problem: RoutingProblem, seed: int) -> list[int]:
    """Model node k is problem point perm[k]; depots stay first, customers shuffled by seed."""
    customers = list(range(problem.num_depots, problem.num_points))
    if seed:
        random.Random(seed).shuffle(customers)
    return list(range(problem.num_depots)) + customers


def _inverse(perm: list[int]) -> list[int]:
    pos = [0] * len(perm)
    for k, p in enumerate(perm):
        pos[p] = k
    return pos


def _permuted(matrix: IntMatrix, perm: list[int]) -> list[list[int]]:
    idx = np.asarray(perm, dtype=np.int64)
    return matrix[np.ix_(idx, idx)].astype(np.int64).tolist()
