"""GLS λ sweeps (the fallback search, not the default ILS): objective gap to PyVRP-5 s.

Usage::

    python benchmarks/tune_lambda.py cpts --visits 40 --limit 2 --lambdas 0.1,0.5 --seeds 0,1,2,3,4
    python benchmarks/tune_lambda.py solomon --limit 5 --lambdas 0.1,0.5

A comma-separated group ``0.5+0.1`` splits the budget into runs and keeps the best.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from scheduler.bievre import morning
from scheduler.model import Parameters
from scheduler.plan import build_rounds_model
from scheduler.reference import solve_pyvrp
from scheduler.routing import solve_routing
from scheduler.solomon import read_solomon, solve_solomon_pyvrp, to_routing_problem

SOLOMON = Path(__file__).resolve().parent / "data" / "solomon"  # public instances, see README there


def cpts(
    visits: int, limit: float, groups: list[list[float]], seeds: list[int], reset: bool = True
) -> None:
    refs = {}
    for s in seeds:
        problem = build_rounds_model(morning(visits, 11, s), Parameters(seed=s)).problem
        refs[s] = solve_pyvrp(problem, time_limit_s=5.0, seed=s).objective
    for lams in groups:
        gaps = []
        for s in seeds:
            problem = build_rounds_model(morning(visits, 11, s), Parameters(seed=s)).problem
            best = min(
                solve_routing(
                    problem,
                    time_limit_s=limit / len(lams),
                    work_limit=None,
                    seed=s,
                    metaheuristic="gls",
                    gls_lambda=lam,
                    gls_reset_penalties=reset,
                ).objective
                for lam in lams
            )
            gaps.append(100 * (best / refs[s] - 1))
        print(lams, [round(g, 2) for g in gaps], "mean", round(statistics.mean(gaps), 2))


def solomon(limit: float, groups: list[list[float]]) -> None:
    files = sorted(str(p) for p in SOLOMON.glob("*.txt"))
    if not files:
        raise FileNotFoundError(f"no Solomon instance in {SOLOMON}")
    refs = {f: solve_solomon_pyvrp(read_solomon(f), time_limit_s=limit).distance for f in files}
    print("pyvrp", {f.split("/")[-1]: refs[f] for f in files}, flush=True)
    for lams in groups:
        gaps, ours = [], {}
        for f in files:
            problem = to_routing_problem(read_solomon(f))
            sols = [
                solve_routing(
                    problem,
                    time_limit_s=limit / len(lams),
                    work_limit=None,
                    metaheuristic="gls",
                    gls_lambda=lam,
                )
                for lam in lams
            ]
            best = min(s.objective for s in sols if s.found and not s.dropped)
            ours[f.split("/")[-1]] = best / 10
            gaps.append(100 * (best / 10 / refs[f] - 1))
        print("ours", ours)
        print(
            lams, [round(g, 2) for g in gaps], "mean", round(statistics.mean(gaps), 2), flush=True
        )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["cpts", "solomon"])
    p.add_argument("--visits", type=int, default=40)
    p.add_argument("--limit", type=float, default=2.0)
    p.add_argument("--lambdas", default="0.1,0.5")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--no-reset", action="store_true", help="cpts: keep GLS penalties")
    a = p.parse_args()
    groups = [[float(x) for x in g.split("+")] for g in a.lambdas.split(",")]
    if a.what == "cpts":
        cpts(a.visits, a.limit, groups, [int(s) for s in a.seeds.split(",")], not a.no_reset)
    else:
        solomon(a.limit, groups)


if __name__ == "__main__":
    main()
