"""PyVRP as the reference solver on the very same :class:`RoutingProblem`.

PyVRP is a development dependency used by the benchmarks only, so it is
imported inside the function. Hard vehicle restrictions and continuity costs
become one PyVRP *profile* per vehicle (forbidden arcs cost more than any
drop), so both solvers optimise the same objective; a vehicle's soft return
time becomes PyVRP's shift duration with paid overtime.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from scheduler.vrp import RoutingProblem, RoutingSolution

FORBIDDEN = 10**10


def solve_pyvrp(problem: RoutingProblem, *, time_limit_s: float, seed: int = 0) -> RoutingSolution:
    """Solve with PyVRP's iterated local search for ``time_limit_s`` seconds."""
    import pyvrp
    from pyvrp.stop import MaxRuntime

    nd = problem.num_depots
    locations = [pyvrp.Location(0, 0) for _ in range(problem.num_points)]
    depots = [pyvrp.Depot(i) for i in range(nd)]
    clients = [
        pyvrp.Client(
            nd + k,
            delivery=[c.demand],
            service_duration=c.service,
            tw_early=c.earliest,
            tw_late=c.latest,
            prize=c.penalty or 0,
            required=c.penalty is None,
        )
        for k, c in enumerate(problem.customers)
    ]
    profiles: dict[tuple[int, tuple[int, ...]], int] = {}
    distances: list[Any] = []
    vehicle_types = []
    for v, veh in enumerate(problem.vehicles):
        forbidden = tuple(
            k
            for k, c in enumerate(problem.customers)
            if c.allowed_vehicles is not None and v not in c.allowed_vehicles
        )
        key = (veh.cost_class, forbidden)
        if key not in profiles:
            m = problem.costs[veh.cost_class].astype(np.int64).copy()
            for k in forbidden:
                m[:, nd + k] = FORBIDDEN
            np.fill_diagonal(m, 0)
            profiles[key] = len(distances)
            distances.append(m)
        overtime: dict[str, Any] = {}  # keywords of VehicleType (mypy checks a ** dict against all)
        if veh.soft_latest is not None and veh.overtime_cost > 0:
            # Leaving exactly at ``earliest`` (waiting happens at the visits) makes
            # PyVRP's duration overtime the same as returning after ``soft_latest``.
            overtime = {
                "start_late": veh.earliest,
                "shift_duration": veh.soft_latest - veh.earliest,
                "max_overtime": max(0, veh.latest - veh.soft_latest),
                "unit_overtime_cost": veh.overtime_cost,
            }
        vehicle_types.append(
            pyvrp.VehicleType(
                1,
                capacity=[veh.capacity],
                start_depot=veh.start,
                end_depot=veh.end,
                tw_early=veh.earliest,
                tw_late=veh.latest,
                profile=profiles[key],
                **overtime,
            )
        )
    durations: list[Any] = [problem.travel.astype(np.int64)] * len(distances)
    data = pyvrp.ProblemData(locations, clients, depots, vehicle_types, distances, durations)
    started = time.perf_counter()
    res = pyvrp.solve(data, stop=MaxRuntime(time_limit_s), seed=seed, display=False)
    elapsed = time.perf_counter() - started
    routes: list[tuple[int, ...]] = [() for _ in problem.vehicles]
    for r in res.best.routes():
        routes[r.vehicle_type()] = tuple(int(a.idx) for a in r.schedule() if a.is_client())
    served = {c for r in routes for c in r}
    dropped = tuple(k for k in range(len(problem.customers)) if k not in served)
    cost = int(res.cost()) if res.is_feasible() else -1
    return RoutingSolution(
        tuple(routes),
        dropped,
        cost,
        elapsed,
        int(res.num_iterations),
        "time_limit",
        bool(res.is_feasible()),
    )
