"""Large mornings improved region by region (scheduler.regions, routing.solve_by_regions)."""

from __future__ import annotations

from dataclasses import replace

from checker import check_rounds

from scheduler import Parameters, solve_rounds
from scheduler.bievre import morning
from scheduler.plan import build_rounds_model, time_route
from scheduler.recombine import plan_cost, round_cost
from scheduler.regions import applicable, neighbours, region, sweep_batches
from scheduler.routing import REGIONS_FIRST_SOLUTION, _solve_once, solve_routing
from scheduler.vrp import RoutingSolution

# 36 GPs: three regions of 12, the smallest morning regions apply to.
VISITS, GPS, SIZE = 120, 36, 12


def _model(seed: int = 0, **params: object):  # noqa: ANN202
    return build_rounds_model(morning(VISITS, GPS, seed), Parameters(seed=seed, **params))


def _first_plan(problem, seed: int = 0) -> RoutingSolution:  # noqa: ANN001
    return _solve_once(
        problem, 30.0, 1, "descent", None, seed=seed, first_solution=REGIONS_FIRST_SOLUTION
    )


def test_a_region_prices_its_rounds_as_the_whole_morning_does():
    problem = _model().problem
    first = _first_plan(problem)
    vehicles = neighbours(problem, 5, SIZE)
    assert 5 in vehicles and len(vehicles) == SIZE
    reg = region(problem, first.routes, vehicles)
    # The sub-problem holds exactly the region's visits (plus nearby dropped ones).
    assert set(reg.customers) >= {k for v in vehicles for k in first.routes[v]}
    # Its rounds, re-indexed, cost in the sub-problem what they cost in the whole.
    index = {k: i for i, k in enumerate(reg.customers)}
    sub_routes = [tuple(index[k] for k in first.routes[v]) for v in vehicles]
    sub_cost = sum(round_cost(reg.problem, i, r) for i, r in enumerate(sub_routes) if r)
    assert sub_cost == sum(round_cost(problem, v, first.routes[v]) for v in vehicles)
    for i, r in enumerate(sub_routes):
        assert time_route(reg.problem, i, r).feasible
    # And map back to the same rounds.
    same = RoutingSolution(tuple(sub_routes), (), 0, 0.0, 0, "given")
    assert reg.routes_back(same) == {v: tuple(first.routes[v]) for v in vehicles}


def test_a_sweep_covers_every_gp_in_pairs_of_regions_sharing_no_gp():
    problem = _model().problem
    batches = sweep_batches(problem, SIZE, seed=3)
    assert {v for batch in batches for vs in batch for v in vs} == set(range(GPS))
    for batch in batches:
        assert len(batch) in (1, 2)
        if len(batch) == 2:
            assert not set(batch[0]) & set(batch[1])
    assert batches != sweep_batches(problem, SIZE, seed=4)  # the order follows the seed


def test_regions_apply_from_three_regions_of_gps():
    problem = _model().problem
    assert applicable(problem, SIZE)
    assert not applicable(problem, SIZE + 1)
    assert not applicable(problem, 0)


def test_by_regions_the_plan_improves_keeps_every_rule_and_follows_the_seed():
    model = _model(seed=1)
    problem = model.problem
    first = _first_plan(problem, seed=1)
    common = {
        "time_limit_s": 60.0,
        "work_limit": 300,
        "seed": 1,
        "region_vehicles": SIZE,
        "rivals": ("LOCAL_CHEAPEST_INSERTION",),
    }
    sol = solve_routing(problem, **common)
    assert sol.notes["regions_kept"] >= 1
    assert sol.objective < first.objective
    assert plan_cost(problem, sol.routes)[0] == sol.objective
    served = [k for r in sol.routes for k in r]
    assert len(served) == len(set(served))
    assert sorted(served + list(sol.dropped)) == list(range(len(problem.customers)))
    for v, route in enumerate(sol.routes):
        assert time_route(problem, v, route).feasible
        for k in route:
            allowed = problem.customers[k].allowed_vehicles
            assert allowed is None or v in allowed
    # The budget, not the clock, stops every region solve: the same seed, the same plan.
    again = solve_routing(problem, **common)
    assert again.routes == sol.routes


def test_a_replan_by_regions_never_costs_more_than_the_plan_it_starts_from():
    problem = _model(seed=2).problem
    start = _solve_once(problem, 30.0, 200, "ils", None, seed=2, first_solution="SAVINGS")
    sol = solve_routing(
        problem,
        time_limit_s=60.0,
        work_limit=60,
        seed=2,
        region_vehicles=SIZE,
        initial_routes=[list(r) for r in start.routes],
    )
    assert sol.objective <= plan_cost(problem, start.routes)[0]


def test_a_morning_planned_by_regions_passes_the_independent_check():
    instance = morning(VISITS, GPS, 0)
    params = replace(Parameters(time_limit_s=60.0, work_limit=200), region_vehicles=SIZE)
    plan = solve_rounds(instance, params)
    assert plan.search == "ils"
    check_rounds(instance, plan, params)


def test_regions_by_round_gather_the_gps_whose_rounds_come_nearest():
    problem = _model().problem
    first = _first_plan(problem)
    nd = problem.num_depots

    def points(v: int) -> list[int]:
        return [problem.vehicles[v].start, *(nd + k for k in first.routes[v])]

    differ = 0
    for v in range(GPS):
        by_round = neighbours(problem, v, SIZE, first.routes)
        assert v in by_round and len(by_round) == SIZE
        hop = {
            u: min(int(problem.travel[a, b]) for a in points(v) for b in points(u))
            for u in range(GPS)
        }
        inside = max(hop[u] for u in by_round if u != v)
        assert all(hop[u] >= inside for u in range(GPS) if u not in by_round)
        differ += by_round != neighbours(problem, v, SIZE)
    assert differ > 0  # rounds reach beyond the practices: other regions than by practice


def test_on_one_core_regions_come_one_at_a_time_and_still_improve():
    problem = _model(seed=1).problem
    singles = sweep_batches(problem, SIZE, seed=3, pairs=False)
    assert all(len(batch) == 1 for batch in singles)
    assert {v for batch in singles for vs in batch for v in vs} == set(range(GPS))
    sol = solve_routing(
        problem, time_limit_s=60.0, work_limit=300, seed=1, region_vehicles=SIZE, rivals=()
    )
    assert sol.notes["regions_kept"] >= 1
    assert sol.objective < _first_plan(problem, seed=1).objective
