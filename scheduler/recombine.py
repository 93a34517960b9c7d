"""Set partitioning over the rounds the searches met: the cheapest plan made of them.

On its way an ILS run meets thousands of distinct feasible rounds (one
vehicle's ordered visits). Two runs from different first solutions meet
different ones, and the best plan made of rounds from *both* is often well
below either run's own best: on the 80-visit mornings, best of the two runs
3.9 % above PyVRP, the recombined plan 2.4 % (seeds 0–4, benchmarks/RESULTS.md).
A MIP picks at most one round per vehicle and each customer at most once,
paying the drop penalty of every customer left out; its plan replaces the
runs' best only when cheaper, so the result is never worse.

Every round came from a feasible plan of the same vehicle, and feasibility
of a round depends on nothing else (windows, capacity, allowed vehicles,
return time), so any such selection is a feasible plan.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace

from ortools.linear_solver import pywraplp

from scheduler.vrp import RoutingProblem, RoutingSolution

logger = logging.getLogger(__name__)

#: A round as met in a search: (vehicle, customers in visiting order).
Round = tuple[int, tuple[int, ...]]


def round_cost(problem: RoutingProblem, vehicle: int, customers: tuple[int, ...]) -> int:
    """The round's share of the objective: its arc costs plus the vehicle's overtime.

    Leaving at the vehicle's earliest time and serving each visit as soon as
    its window opens gives the earliest return, hence the least overtime.
    """
    veh = problem.vehicles[vehicle]
    nd = problem.num_depots
    costs = problem.costs[veh.cost_class]
    path = [veh.start, *(nd + k for k in customers), veh.end]
    arcs = sum(int(costs[a, b]) for a, b in zip(path, path[1:], strict=False))
    clock, here = veh.earliest, veh.start
    for k in customers:
        customer = problem.customers[k]
        clock = max(clock + int(problem.travel[here, nd + k]), customer.earliest) + customer.service
        here = nd + k
    back = clock + int(problem.travel[here, veh.end])
    return arcs + veh.overtime(back)


def plan_cost(
    problem: RoutingProblem, routes: Sequence[Sequence[int]]
) -> tuple[int, tuple[int, ...]]:
    """A plan's objective (its rounds' costs plus drop penalties) and its dropped customers."""
    served = {k for r in routes for k in r}
    dropped = tuple(k for k in range(len(problem.customers)) if k not in served)
    rounds = sum(round_cost(problem, v, tuple(r)) for v, r in enumerate(routes) if r)
    return rounds + problem.drop_penalty(dropped), dropped


def recombine(
    problem: RoutingProblem,
    rounds: Iterable[Round],
    incumbent: RoutingSolution,
    *,
    time_limit_s: float,
) -> RoutingSolution:
    """The cheapest plan of ``rounds`` (with ``incumbent``'s), or ``incumbent`` itself.

    For each vehicle and set of customers only the cheapest order is kept.
    CBC solves the set-partitioning MIP to optimality, usually in 0.06–0.8 s
    on the 80-visit mornings (CP-SAT took 0.9–1.8 s), so the same rounds give
    the same plan. ``time_limit_s`` (model building included) caps it: some
    pools from short searches took CBC 9 s. A capped solve's plan is kept
    only if it is cheaper than the incumbent.
    """
    started = time.perf_counter()
    own = {(v, tuple(r)) for v, r in enumerate(incumbent.routes) if r}
    columns = _cheapest_orders(problem, set(rounds) | own, own)
    if len(columns) <= len(own):
        return incumbent
    solver = pywraplp.Solver.CreateSolver("CBC")
    if solver is None:  # an OR-Tools build without CBC
        logger.warning("CBC unavailable: rounds not recombined")
        return incumbent
    chosen = [solver.BoolVar(f"r{i}") for i in range(len(columns))]
    per_vehicle: list[list[pywraplp.Variable]] = [[] for _ in problem.vehicles]
    per_customer: list[list[pywraplp.Variable]] = [[] for _ in problem.customers]
    for var, (vehicle, customers, _) in zip(chosen, columns, strict=True):
        per_vehicle[vehicle].append(var)
        for k in customers:
            per_customer[k].append(var)
    for used in per_vehicle:
        solver.Add(sum(used) <= 1)
    objective = solver.Objective()
    for var, (_, _, cost) in zip(chosen, columns, strict=True):
        objective.SetCoefficient(var, cost)
    for k, covering in enumerate(per_customer):
        penalty = problem.customers[k].penalty
        if penalty is None:
            solver.Add(sum(covering) == 1)
            continue
        # Dropping k costs penalty × (1 − covered): each round covering k is credited
        # the penalty instead, and the constant stays out of the MIP, so that a 10⁸
        # promise nobody can serve does not swamp its tolerances.
        if covering:
            solver.Add(sum(covering) <= 1)
            for var in covering:
                objective.SetCoefficient(var, objective.GetCoefficient(var) - penalty)
    objective.SetMinimization()
    left = time_limit_s - (time.perf_counter() - started)
    solver.SetTimeLimit(max(10, int(1000 * left)))
    exact = pywraplp.MPSolverParameters()
    exact.SetDoubleParam(exact.RELATIVE_MIP_GAP, 0.0)
    status = solver.Solve(exact)
    if status not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        return incumbent
    if status != pywraplp.Solver.OPTIMAL:
        logger.warning("rounds recombination cut by its %.2f s cap", time_limit_s)
    routes: list[tuple[int, ...]] = [() for _ in problem.vehicles]
    for var, (vehicle, customers, _) in zip(chosen, columns, strict=True):
        if var.solution_value() > 0.5:
            routes[vehicle] = customers
    total, dropped = plan_cost(problem, routes)
    if total >= incumbent.objective:
        return incumbent
    logger.debug("recombined %d rounds: %d -> %d", len(columns), incumbent.objective, total)
    return replace(
        incumbent,
        routes=tuple(routes),
        dropped=dropped,
        objective=total,
        notes={**incumbent.notes, "recombined_from": float(len(columns))},
    )


def _cheapest_orders(
    problem: RoutingProblem, rounds: set[Round], own: set[Round]
) -> list[tuple[int, tuple[int, ...], int]]:
    """(vehicle, customers, cost) with one order per vehicle and set, sorted (deterministic)."""
    best: dict[tuple[int, frozenset[int]], tuple[int, bool, tuple[int, ...]]] = {}
    for vehicle, customers in rounds:
        key = (vehicle, frozenset(customers))
        # On a tie the incumbent's own order wins, then the smaller tuple.
        cost = round_cost(problem, vehicle, customers)
        entry = (cost, (vehicle, customers) not in own, customers)
        if key not in best or entry < best[key]:
            best[key] = entry
    return sorted((v, c, cost) for (v, _), (cost, _, c) in best.items())
