"""Bièvre mornings: our rounds vs PyVRP, first-feasible time, propose() latency.

Usage: ``python benchmarks/cpts_rounds.py --seeds 5`` (seeds 0..4). Both solvers minimise
the same objective (travel seconds + continuity + overtime + drop penalties) on the
same routing problem; ``distance`` is travel minutes; the cost gap is over PyVRP's
objective net of its drop penalties (scheduler.bench.routing_cost_gap). The "distance
only" rows drop the continuity and overtime costs, so both solvers minimise travel
(plus drops): the like-for-like distance comparison. Ours races ILS from two first
solutions on the machine's two cores (scheduler.portfolio); the "one core" rows run the
single search, as PyVRP does. Prints a line per run and a final JSON line.
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import statistics
import time
from typing import Any

from scheduler import Parameters, propose, routing, solve_rounds
from scheduler.bench import bench_cpts, cpts_model, pyvrp_on, routing_cost_gap
from scheduler.bievre import morning, random_visit


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def first_feasible(visits: int, gps: int, repeats: int) -> dict[str, float]:
    """Wall time of the insertion heuristic alone, model building included."""
    times = []
    for seed in range(repeats):
        instance = morning(visits, gps, seed)
        started = time.perf_counter()
        plan = solve_rounds(instance, Parameters(seed=seed), first_solution_only=True)
        times.append(time.perf_counter() - started)
        assert not plan.check()
    return {"median_ms": 1000 * statistics.median(times), "p95_ms": 1000 * percentile(times, 0.95)}


def propose_latency(planned: int, requests: int) -> dict[str, float]:
    """propose() with ``planned`` visits already in the rounds (plan given, as the app does)."""
    instance = morning(planned, 11, seed=42)
    plan = solve_rounds(instance, Parameters(time_limit_s=2.0, seed=42))
    rng = random.Random(7)
    ids = [p.id for p in instance.practitioners]
    times, answered = [], 0
    for i in range(requests):
        new = random_visit(rng, f"N{i}", ids)
        started = time.perf_counter()
        options = propose(instance, new, k=5, plan=plan)
        times.append(time.perf_counter() - started)
        answered += bool(options)
    return {
        "median_ms": 1000 * statistics.median(times),
        "p95_ms": 1000 * percentile(times, 0.95),
        "answered": answered / requests,
    }


@functools.cache
def reference(visits: int, seed: int, limit: float, distance_only: bool) -> dict[str, Any]:
    """PyVRP's run on one morning, shared by every row that compares against it."""
    return pyvrp_on(cpts_model(visits, 11, seed, limit, distance_only=distance_only))


def compare(
    visits: int,
    limit: float,
    ref_limit: float,
    seed: int,
    deterministic: bool = False,
    distance_only: bool = False,
    one_core: bool = False,
) -> dict[str, float]:
    """Ours at ``limit`` vs PyVRP at ``ref_limit`` on one seeded morning.

    ``deterministic`` runs ours as the service does: stopped by the solution
    budget derived from the limit rather than by the clock. ``gap_pct`` is
    relative to PyVRP's cost net of drop penalties (scheduler.bench).
    """
    ours = bench_cpts(
        visits=visits,
        gps=11,
        seed=seed,
        time_limit_s=limit,
        reference=False,
        deterministic=deterministic,
        distance_only=distance_only,
        one_core=one_core,
    )
    ref = reference(visits, seed, ref_limit, distance_only)
    return {
        "ours_distance": ours["distance"],
        "ours_objective": ours["objective"],
        "ours_dropped": len(ours["dropped"]),
        "ours_time_s": ours["time_s"],
        "ours_first_solution": ours["first_solution"],
        "pyvrp_distance": ref["pyvrp_distance"],
        "pyvrp_objective": ref["pyvrp_objective"],
        "pyvrp_dropped": len(ref["pyvrp_dropped"]),
        "distance_gap_pct": 100 * (ours["distance"] / ref["pyvrp_distance"] - 1),
        "gap_pct": routing_cost_gap(
            ours["objective"], ref["pyvrp_objective"], ref["pyvrp_dropped_penalty"]
        ),
    }


def main() -> None:
    """Run every measurement and print it."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    summary: dict[str, object] = {}
    routing.warm_up()  # the rival's worker process, started before anything is timed
    summary["first_feasible_40x11"] = ff = first_feasible(40, 11, 20)
    print(
        f"first feasible 40 visits/11 GPs: median {ff['median_ms']:.1f} ms, "
        f"p95 {ff['p95_ms']:.1f} ms (target < 50 ms)",
        flush=True,
    )
    summary["propose_60_planned"] = pl = propose_latency(60, 60)
    print(
        f"propose() with 60 planned: median {pl['median_ms']:.1f} ms, p95 {pl['p95_ms']:.1f} ms "
        f"(target p95 < 200 ms), answered {pl['answered']:.0%}",
        flush=True,
    )
    # (visits, limit, service budget, distance only, one core)
    runs = (
        (40, 2.0, False, False, False),
        (40, 5.0, False, False, False),
        (80, 5.0, False, False, False),
        (40, 5.0, True, False, False),
        (80, 5.0, True, False, False),
        (40, 2.0, False, True, False),
        (40, 5.0, False, True, False),
        (80, 5.0, False, True, False),
        (40, 5.0, False, False, True),
        (80, 5.0, False, False, True),
        (80, 5.0, False, True, True),
    )
    for visits, limit, deterministic, distance_only, one_core in runs:
        rows = [
            compare(visits, limit, 5.0, seed, deterministic, distance_only, one_core)
            for seed in range(args.seeds)
        ]
        mode = (
            (" (service budget)" if deterministic else "")
            + (" (distance only)" if distance_only else "")
            + (" (one core)" if one_core else "")
        )
        key = (
            f"{visits}v_{limit:g}s{'_budget' if deterministic else ''}"
            f"{'_distance' if distance_only else ''}{'_one_core' if one_core else ''}_vs_pyvrp_5s"
        )
        dist = statistics.mean(r["distance_gap_pct"] for r in rows)
        gap = statistics.mean(r["gap_pct"] for r in rows)
        summary[key] = {"distance_gap_pct": dist, "gap_pct": gap, "rows": rows}
        drops = [(r["ours_dropped"], r["pyvrp_dropped"]) for r in rows]
        print(
            f"{visits} visits, ours {limit:g}s{mode} vs PyVRP 5s: mean distance gap {dist:.2f}%, "
            f"cost gap {gap:.2f}%, dropped (ours, pyvrp) {drops}, per seed "
            f"{[round(r['gap_pct'], 2) for r in rows]}, "
            f"ours stopped after {[r['ours_time_s'] for r in rows]} s, won by "
            f"{[r['ours_first_solution'].split('_')[0] for r in rows]}",
            flush=True,
        )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
