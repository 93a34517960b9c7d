"""Set partitioning over the rounds the ILS searches met (scheduler.recombine)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from checker import check_rounds

from scheduler import Parameters, solve_rounds
from scheduler.bievre import morning
from scheduler.plan import build_rounds_model
from scheduler.recombine import recombine, round_cost
from scheduler.routing import _solve_once, solve_routing
from scheduler.vrp import Customer, RoutingProblem, RoutingSolution, Vehicle

PCI, LCI = "PARALLEL_CHEAPEST_INSERTION", "LOCAL_CHEAPEST_INSERTION"


def _plan_cost(problem: RoutingProblem, routes, dropped) -> int:  # noqa: ANN001
    rounds = sum(round_cost(problem, v, r) for v, r in enumerate(routes) if r)
    return rounds + problem.drop_penalty(dropped)


def test_a_rounds_cost_is_its_share_of_the_solvers_objective():
    # Continuity and overtime costs on: the recombination must price rounds as OR-Tools does.
    params = Parameters(seed=2, overtime_cost=50)
    problem = build_rounds_model(morning(40, 11, 2), params).problem
    sol = _solve_once(problem, 30.0, 100, "ils", None, seed=2, first_solution=PCI, collect=True)
    assert any(v.overtime_cost for v in problem.vehicles)
    assert _plan_cost(problem, sol.routes, sol.dropped) == sol.objective
    assert len(sol.routes_met) > sum(1 for r in sol.routes if r)
    assert {(v, r) for v, r in enumerate(sol.routes) if r} <= sol.routes_met


def test_recombining_both_searches_rounds_beats_each_search_and_their_race():
    problem = build_rounds_model(morning(40, 11, 1), Parameters(seed=1)).problem
    common = {"time_limit_s": 30.0, "work_limit": 150, "seed": 1, "metaheuristic": "ils"}
    alone = [
        solve_routing(problem, first_solution=fs, recombine_rounds=False, **common)
        for fs in (PCI, LCI)
    ]
    raced = solve_routing(problem, rivals=(LCI,), recombine_rounds=False, **common)
    recombined = solve_routing(problem, rivals=(LCI,), **common)
    assert raced.objective == min(a.objective for a in alone)
    assert recombined.objective < raced.objective
    assert recombined.notes["recombined_from"] > 22
    assert _plan_cost(problem, recombined.routes, recombined.dropped) == recombined.objective
    served = [k for r in recombined.routes for k in r]
    assert len(served) == len(set(served))
    assert sorted(served + list(recombined.dropped)) == list(range(len(problem.customers)))
    again = solve_routing(problem, rivals=(LCI,), **common)
    assert again.routes == recombined.routes


def test_a_recombined_morning_passes_the_independent_check():
    instance = morning(40, 11, 1)
    params = Parameters(time_limit_s=30.0, work_limit=150, seed=1)
    plan = solve_rounds(instance, params)
    check_rounds(instance, plan, params)
    plain = solve_rounds(instance, replace(params, recombine_rounds=False))
    assert plan.objective["total"] < plain.objective["total"]


def _line_problem() -> RoutingProblem:
    """Two vehicles at point 0 and 1, three customers on a line; customer 2 is mandatory."""
    xs = np.array([0, 10, 1, 2, 9])
    travel = np.abs(xs[:, None] - xs[None, :]).astype(np.int64)
    customers = (
        Customer(0, 100, 0, penalty=5),
        Customer(0, 100, 0, penalty=5),
        Customer(0, 100, 0, penalty=None),
    )
    vehicles = (Vehicle(0, 0, 0, 100, 3), Vehicle(1, 1, 0, 100, 3))
    return RoutingProblem(travel, (travel,), 2, customers, vehicles)


def _solution(problem: RoutingProblem, routes) -> RoutingSolution:  # noqa: ANN001
    served = {k for r in routes for k in r}
    dropped = tuple(k for k in range(len(problem.customers)) if k not in served)
    return RoutingSolution(tuple(routes), dropped, _plan_cost(problem, routes, dropped), 0.0, 1, "")


def test_a_rounds_overtime_counts_waiting_and_service_as_or_tools_does():
    base = _line_problem()
    # Vehicle 0 due back at 12, 4 per unit late (vehicle 1 is idle: no capacity);
    # customer 1 opens at 20, so the round waits there; each visit takes 3.
    customers = (
        Customer(0, 100, 3, penalty=None),
        Customer(20, 100, 3, penalty=None),
        Customer(0, 100, 3, penalty=None),
    )
    vehicle = Vehicle(0, 0, 0, 100, 3, soft_latest=12, overtime_cost=4)
    idle = Vehicle(1, 1, 0, 100, 0)
    problem = replace(base, customers=customers, vehicles=(vehicle, idle))
    sol = _solve_once(problem, 30.0, 50, "gls", None, seed=0, first_solution=PCI)
    route, nothing = sol.routes
    assert nothing == ()
    assert sorted(route) == [0, 1, 2]
    assert round_cost(problem, 0, route) > 18  # overtime is paid on top of travel
    assert _plan_cost(problem, sol.routes, sol.dropped) == sol.objective


def test_the_partition_keeps_mandatory_customers_and_prices_drops():
    problem = _line_problem()
    # Incumbent: vehicle 0 serves everyone (0 → 1 → 2 → 9 → 0: 18).
    incumbent = _solution(problem, [(0, 1, 2), ()])
    assert incumbent.objective == 18
    # Met rounds: vehicle 1 serving customer 2 alone costs 2, vehicle 0 serving
    # 0 and 1 costs 4: 6 in all, the cheapest plan. Serving 0 and 1 only
    # (dropping the mandatory customer) would cost 4 and must not be chosen.
    met = {(0, (0, 1)), (1, (2,)), (0, (0,)), (0, (1, 0))}
    best = recombine(problem, met, incumbent, time_limit_s=5.0)
    assert best.routes == ((0, 1), (2,))
    assert best.dropped == ()
    assert best.objective == 6
    # Dropping customer 1 (penalty 5) is dearer than serving it: 2 + 2 + 5 > 6.
    assert best.notes["recombined_from"] == 4


def test_nothing_cheaper_keeps_the_incumbent():
    problem = _line_problem()
    incumbent = _solution(problem, [(0, 1), (2,)])
    assert recombine(problem, {(0, (0, 1, 2)), (1, (0,))}, incumbent, time_limit_s=5.0) is incumbent
