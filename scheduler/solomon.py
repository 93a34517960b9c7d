"""Solomon VRPTW instances: reader, DIMACS conversion and a solve through our OR-Tools engine.

Convention (DIMACS, the one PyVRP uses with ``round_func="dimacs"``):
distance = travel time = Euclidean distance × 10 truncated to an integer;
ready/due/service times × 10; the objective is total distance; results are
reported divided by 10.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scheduler.routing import solve_routing
from scheduler.vrp import Customer, RoutingProblem, RoutingSolution, Vehicle

SCALE = 10


@dataclass(frozen=True)
class SolomonInstance:
    """A Solomon instance as read: node 0 is the depot."""

    name: str
    num_vehicles: int
    capacity: int
    xy: tuple[tuple[float, float], ...]
    demand: tuple[int, ...]
    ready: tuple[int, ...]
    due: tuple[int, ...]
    service: tuple[int, ...]

    @property
    def num_customers(self) -> int:
        """Customers, the depot excluded."""
        return len(self.xy) - 1

    def distances(self) -> np.ndarray:
        """DIMACS integer distances (Euclidean × 10, truncated)."""
        xy = np.asarray(self.xy, dtype=np.float64)
        d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
        return np.floor(d * SCALE).astype(np.int64)


@dataclass(frozen=True)
class SolomonResult:
    """One solve of a Solomon instance, distances in the original units."""

    instance: str
    feasible: bool
    vehicles: int
    distance: float
    time_s: float
    routes: tuple[tuple[int, ...], ...]
    solutions: int
    stopped_by: str

    def as_dict(self) -> dict[str, Any]:
        """The JSON-ready form printed by the bench CLI."""
        return {
            "instance": self.instance,
            "feasible": self.feasible,
            "vehicles": self.vehicles,
            "distance": round(self.distance, 1),
            "time_s": round(self.time_s, 3),
            "routes": [list(r) for r in self.routes],
        }


def read_solomon(path: str | Path) -> SolomonInstance:
    """Read the classic text format (name, VEHICLE block, CUSTOMER table)."""
    lines = [ln.strip() for ln in Path(path).read_text().splitlines() if ln.strip()]
    name = lines[0]
    head = next(i for i, ln in enumerate(lines) if ln.upper().startswith("NUMBER"))
    num_vehicles, capacity = (int(x) for x in lines[head + 1].split()[:2])
    rows = [ln.split() for ln in lines if ln.split()[0].isdigit() and len(ln.split()) == 7]
    if not rows or int(rows[0][0]) != 0:
        raise ValueError(f"{path}: no depot row 0 in the customer table")
    nums = [[float(x) for x in r] for r in rows]
    return SolomonInstance(
        name=name,
        num_vehicles=num_vehicles,
        capacity=capacity,
        xy=tuple((r[1], r[2]) for r in nums),
        demand=tuple(int(r[3]) for r in nums),
        ready=tuple(int(r[4]) for r in nums),
        due=tuple(int(r[5]) for r in nums),
        service=tuple(int(r[6]) for r in nums),
    )


def to_routing_problem(inst: SolomonInstance) -> RoutingProblem:
    """The same VRPTW model as the rounds: one depot, a fleet, capacities, hard windows."""
    dist = inst.distances()
    customers = tuple(
        Customer(
            earliest=inst.ready[i] * SCALE,
            latest=inst.due[i] * SCALE,
            service=inst.service[i] * SCALE,
            demand=inst.demand[i],
        )
        for i in range(1, len(inst.xy))
    )
    vehicle = Vehicle(0, 0, inst.ready[0] * SCALE, inst.due[0] * SCALE, inst.capacity)
    return RoutingProblem(
        travel=dist,
        costs=(dist,),
        num_depots=1,
        customers=customers,
        vehicles=tuple(vehicle for _ in range(inst.num_vehicles)),
    )


def route_distance(inst: SolomonInstance, routes: tuple[tuple[int, ...], ...]) -> int:
    """Total DIMACS distance of routes given as customer numbers (1-based)."""
    dist = inst.distances()
    total = 0
    for r in routes:
        path = [0, *r, 0]
        total += int(sum(dist[a, b] for a, b in zip(path, path[1:], strict=False)))
    return total


def solve_solomon(
    inst: SolomonInstance,
    *,
    time_limit_s: float = 5.0,
    seed: int = 0,
    work_limit: int | None = None,
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION",
    search: str = "ils",
) -> SolomonResult:
    """Minimise total distance with the rounds' engine; routes use customer numbers."""
    problem = to_routing_problem(inst)
    sol: RoutingSolution = solve_routing(
        problem,
        time_limit_s=time_limit_s,
        work_limit=work_limit,
        seed=seed,
        first_solution=first_solution,
        metaheuristic=search,
    )
    routes = tuple(tuple(c + 1 for c in r) for r in sol.routes if r)
    return SolomonResult(
        instance=inst.name,
        feasible=sol.found and not sol.dropped,
        vehicles=len(routes),
        distance=route_distance(inst, routes) / SCALE,
        time_s=sol.wall_time_s,
        routes=routes,
        solutions=sol.solutions,
        stopped_by=sol.stopped_by,
    )


def solve_solomon_pyvrp(
    inst: SolomonInstance, *, time_limit_s: float = 5.0, seed: int = 0
) -> SolomonResult:
    """The PyVRP reference on the same DIMACS data (PyVRP is a dev dependency)."""
    from scheduler.reference import solve_pyvrp

    sol = solve_pyvrp(to_routing_problem(inst), time_limit_s=time_limit_s, seed=seed)
    routes = tuple(tuple(c + 1 for c in r) for r in sol.routes if r)
    return SolomonResult(
        instance=inst.name,
        feasible=sol.found and not sol.dropped,
        vehicles=len(routes),
        distance=route_distance(inst, routes) / SCALE,
        time_s=sol.wall_time_s,
        routes=routes,
        solutions=sol.solutions,
        stopped_by=sol.stopped_by,
    )
