"""Solomon reader, the shared engine on a real instance, and the bench CLI."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest
from checker import check_solomon

from scheduler import read_solomon, solve_solomon
from scheduler.bench import main, routing_cost_gap

# The six public instances are kept in the repository (see benchmarks/data/solomon/README.md).
SOLOMON = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "solomon"


@pytest.fixture(scope="module")
def c101():
    return read_solomon(SOLOMON / "C101.txt")  # missing data is a failure, never a skip


def test_the_six_instances_are_in_the_repository():
    names = sorted(p.stem for p in SOLOMON.glob("*.txt"))
    assert names == ["C101", "C201", "R101", "R201", "RC101", "RC201"]


def test_reader_gets_fleet_depot_and_customers(c101):
    assert c101.name == "C101"
    assert (c101.num_customers, c101.num_vehicles, c101.capacity) == (100, 25, 200)
    assert c101.xy[0] == (40.0, 50.0) and c101.due[0] == 1236
    assert c101.xy[1] == (55.0, 85.0) and (c101.ready[1], c101.due[1]) == (647, 726)
    assert (c101.demand[1], c101.service[1]) == (20, 90)
    assert c101.distances()[0, 1] == 380  # floor(sqrt(15² + 35²) × 10), DIMACS


def test_engine_solves_c101_feasibly(c101):
    result = solve_solomon(c101, time_limit_s=1.0, seed=1, work_limit=100)
    assert result.feasible
    assert check_solomon(c101, result.routes) == pytest.approx(result.distance)
    assert result.distance < 900  # the optimum is 827.3; a weak engine would be far off


def test_bench_solomon_prints_one_json_object(c101):
    out = io.StringIO()
    assert main(["solomon", str(SOLOMON / "C101.txt"), "--time-limit", "0.5"], out=out) == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert {"instance", "feasible", "vehicles", "distance", "time_s", "routes"} <= set(data)
    assert sorted(c for r in data["routes"] for c in r) == list(range(1, 101))


def test_bench_cpts_prints_reference_and_drops():
    out = io.StringIO()
    main(["cpts", "--visits", "12", "--gps", "4", "--seed", "3", "--time-limit", "0.3"], out=out)
    data = json.loads(out.getvalue())
    assert data["instance"] == "bievre-12v-4gp-s3"
    assert {"dropped", "pyvrp_distance", "routes", "distance", "feasible"} <= set(data)
    served = sorted(c for r in data["routes"] for c in r)
    assert len(served) + len(data["dropped"]) == 12


def test_bench_cpts_distance_only_minimises_travel_alone():
    """Without continuity and overtime costs both solvers' objective is travel seconds."""
    args = ["cpts", "--visits", "12", "--gps", "4", "--seed", "1", "--time-limit", "0.3"]
    runs = {}
    for extra in ([], ["--distance-only"]):
        out = io.StringIO()
        main([*args, *extra], out=out)
        runs[bool(extra)] = json.loads(out.getvalue())
    plain, service = runs[True], runs[False]
    assert plain["instance"] == "bievre-12v-4gp-s1-distance"
    assert plain["dropped"] == [] and plain["pyvrp_dropped"] == []
    assert plain["objective"] == pytest.approx(plain["distance"] * 60, abs=1)
    assert plain["pyvrp_objective"] == pytest.approx(plain["pyvrp_distance"] * 60, abs=1)
    # This morning's shortest rounds break a continuity preference: the service
    # objective pays to keep it, the distance-only one drives less.
    assert plain["distance"] < service["distance"]


def test_cost_gap_is_not_hidden_by_a_shared_drop_penalty():
    """An unreachable promised visit (10⁸) dropped by both must not dilute a 1 % travel gap."""
    assert routing_cost_gap(100_010_100, 100_010_000, 100_000_000) == pytest.approx(1.0)
    assert routing_cost_gap(9_900, 10_000, 0) == pytest.approx(-1.0)
    assert routing_cost_gap(5, 100, 100) is None  # nothing but penalties: no ratio


def test_bench_cpts_reports_the_gap_net_of_drop_penalties():
    out = io.StringIO()
    main(["cpts", "--visits", "12", "--gps", "4", "--seed", "3", "--time-limit", "0.3"], out=out)
    data = json.loads(out.getvalue())
    net = data["pyvrp_objective"] - data["pyvrp_dropped_penalty"]
    assert net > 0 and data["dropped_penalty"] >= 0
    assert data["gap_pct"] == pytest.approx(
        100 * (data["objective"] - data["pyvrp_objective"]) / net, abs=1e-3
    )


def test_bench_cpts_grows_the_team_beyond_the_demo_gps():
    """--gps 40 puts 40 GPs on duty (synthetic pairs); their first plan serves the morning."""
    out = io.StringIO()
    main(
        ["cpts", "--visits", "160", "--gps", "40", "--first-solution-only", "--no-reference"],
        out=out,
    )
    data = json.loads(out.getvalue())
    assert data["instance"] == "bievre-160v-40gp-s0"
    assert data["gps"] == 40
    # 11 GPs could serve at most 6×7 + 5×6 = 72 of the 160 visits; 40 serve nearly all
    # (a first plan cut short dropped all 160).
    served = sum(len(r) for r in data["routes"])
    assert data["vehicles"] > 11 and served >= 150
    assert served + len(data["dropped"]) == 160


def test_synthetic_pairs_are_deterministic_titular_then_adjoint():
    from scheduler.bievre import COMMUNES, DEMO_GPS, team

    big = team(gps=20, seed=4)
    assert len(big) == 20 and big[:DEMO_GPS] == team()
    assert big == team(gps=20, seed=4) and big != team(gps=20, seed=5)
    assert team(gps=21, seed=4)[:20] == big
    synthetic = big[DEMO_GPS:]
    titulars = {p.id: p for p in synthetic if p.titular_id is None}
    for p in synthetic:
        if p.titular_id is not None:
            t = titulars[p.titular_id]
            assert (p.lat, p.lon) == (t.lat, t.lon) and p.authorised_on(date(2025, 3, 4))
    lats = [c.lat for c in COMMUNES]
    assert all(min(lats) - 0.03 < p.lat < max(lats) + 0.03 for p in synthetic)


def test_cost_classes_registered_from_the_first_are_the_same_matrices():
    """The per-GP continuity matrices built from the first one's rows equal a full conversion."""
    from scheduler.bench import cpts_model
    from scheduler.routing import _permutation, _permuted, _permuted_like

    problem = cpts_model(80, 20, 3, 1.0).problem
    assert len(problem.costs) > 3
    perm = _permutation(problem, 3)
    first = _permuted(problem.costs[0], perm)
    for other in problem.costs[1:]:
        assert _permuted_like(first, problem.costs[0], other, perm) == _permuted(other, perm)


def test_the_first_plan_registers_one_cost_matrix_and_builds_the_same_plan(monkeypatch):
    """Continuity as offsets on the points left: same route costs, same first plans."""
    from dataclasses import replace

    from scheduler import routing
    from scheduler.bench import cpts_model

    problem = cpts_model(80, 20, 3, 1.0).problem
    assert problem.row_costs is not None and len(problem.costs) > 3
    common, offsets = problem.row_costs
    nd = problem.num_depots
    # Every route costs the same either way (the penalty arriving at a visit or leaving it).
    for v, vehicle in enumerate(problem.vehicles):
        path = [vehicle.start, *range(nd + v, problem.num_points, 7), vehicle.end]
        arcs = list(zip(path, path[1:], strict=False))
        assert sum(int(problem.costs[vehicle.cost_class][a, b]) for a, b in arcs) == sum(
            int(common[a, b]) + int(offsets[vehicle.cost_class][a]) for a, b in arcs
        ), v
    seen = []
    real = routing.add_travel_costs

    def spy(model, prob, perm, *, by_rows=False):
        real(model, prob, perm, by_rows=by_rows)
        seen.append(routing.ROW_COSTS in model.GetAllDimensionNames())

    monkeypatch.setattr(routing, "add_travel_costs", spy)
    for strategy in ("PARALLEL_CHEAPEST_INSERTION", "LOCAL_CHEAPEST_INSERTION"):
        seen.clear()
        # The first plan alone...
        rows = routing._solve_once(
            problem, 30.0, 1, "descent", None, seed=3, first_solution=strategy
        )
        # ...builds the plan the class matrices give.
        classes = routing._solve_once(
            replace(problem, row_costs=None),
            30.0,
            1,
            "descent",
            None,
            seed=3,
            first_solution=strategy,
        )
        # Only the parallel insertion is built on one matrix (the others order visits by arc
        # costs and would build other plans).
        assert seen == [strategy == "PARALLEL_CHEAPEST_INSERTION", False]
        assert rows.routes == classes.routes and rows.objective == classes.objective
        assert len(rows.dropped) < 5
