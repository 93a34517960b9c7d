"""Benchmark command line: ``bench solomon FILE …`` and ``bench cpts …``, one JSON object each.

The app wires ``premier-recours bench …`` to :func:`main`. PyVRP (the
reference, a development dependency) is imported lazily.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, TextIO

from scheduler.bievre import morning
from scheduler.model import Parameters
from scheduler.plan import RoundsModel, build_rounds_model
from scheduler.rounds import solve_model
from scheduler.solomon import read_solomon, solve_solomon
from scheduler.vrp import RoutingSolution


def bench_solomon(path: str, *, time_limit_s: float, seed: int) -> dict[str, Any]:
    """Solve one Solomon file with our engine to the time limit (distance objective)."""
    result = solve_solomon(read_solomon(path), time_limit_s=time_limit_s, seed=seed)
    return result.as_dict()


def _travel_minutes(problem: Any, sol: RoutingSolution) -> float:
    nd = problem.num_depots
    total = 0
    for v, route in enumerate(sol.routes):
        veh = problem.vehicles[v]
        path = [veh.start, *(nd + c for c in route), veh.end]
        total += sum(int(problem.travel[a, b]) for a, b in zip(path, path[1:], strict=False))
    return round(total / 60, 2)


def cpts_model(
    visits: int,
    gps: int,
    seed: int,
    time_limit_s: float,
    *,
    deterministic: bool = False,
    distance_only: bool = False,
    one_core: bool = False,
) -> RoundsModel:
    """The routing model of a seeded Bièvre morning, as both solvers get it.

    ``distance_only`` drops the continuity and overtime costs, so both
    minimise travel plus drops: the plain distance problem. ``one_core`` runs
    our one search without its rival (PyVRP's is a single search on one core).
    """
    params = Parameters(time_limit_s=time_limit_s, seed=seed, deterministic=deterministic)
    if distance_only:
        params = replace(params, continuity_penalty=0, overtime_cost=0)
    if one_core:
        params = replace(params, rival_first_solutions=())
    return build_rounds_model(morning(visits, gps, seed), params)


def pyvrp_on(model: RoundsModel) -> dict[str, Any]:
    """PyVRP's plan for the model, within the model's time limit and seed."""
    from scheduler.reference import solve_pyvrp

    params = model.params
    ref = solve_pyvrp(model.problem, time_limit_s=params.time_limit_s, seed=params.seed)
    return {
        "pyvrp_distance": _travel_minutes(model.problem, ref),
        "pyvrp_objective": ref.objective,
        "pyvrp_dropped": [model.visits[c].id for c in ref.dropped],
        "pyvrp_dropped_penalty": model.problem.drop_penalty(ref.dropped),
    }


def bench_cpts(
    *,
    visits: int,
    gps: int,
    seed: int,
    time_limit_s: float,
    reference: bool = True,
    deterministic: bool = False,
    distance_only: bool = False,
    one_core: bool = False,
    first_solution_only: bool = False,
) -> dict[str, Any]:
    """A seeded Bièvre morning solved by us and by PyVRP on the same routing problem.

    ``gps`` GPs are on duty: beyond the demo's 11, synthetic titular/adjoint
    pairs (scheduler.bievre.synthetic_pairs). ``first_solution_only`` stops ours
    after the insertion heuristic (``time_s`` is then the first plan's time).

    ``distance`` is total travel in minutes; ``objective`` adds continuity,
    overtime and drop penalties (seconds-equivalent), the quantity both
    solvers minimise (see :func:`cpts_model` for ``distance_only``).

    ``gap_pct`` is the objective difference over PyVRP's *routing cost* (its
    objective less its drop penalties). On a morning where both must drop
    visits, a promised visit nobody can reach weighs 10⁸ and a ratio of
    whole objectives would hide any travel difference behind it.
    """
    model = cpts_model(
        visits,
        gps,
        seed,
        time_limit_s,
        deterministic=deterministic,
        distance_only=distance_only,
        one_core=one_core,
    )
    sol = solve_model(model, first_solution_only=first_solution_only)
    out: dict[str, Any] = {
        "instance": f"bievre-{visits}v-{gps}gp-s{seed}{'-distance' if distance_only else ''}",
        "gps": len(model.duties),
        "feasible": sol.found,
        "first_solution": sol.first_solution,
        "vehicles": sum(1 for r in sol.routes if r),
        "distance": _travel_minutes(model.problem, sol),
        "objective": sol.objective,
        "time_s": round(sol.wall_time_s, 3),
        "routes": [[int(model.visits[c].id[1:]) for c in r] for r in sol.routes if r],
        "dropped": [model.visits[c].id for c in sol.dropped],
        "dropped_penalty": model.problem.drop_penalty(sol.dropped),
    }
    if reference:
        out |= pyvrp_on(model)
        out["gap_pct"] = routing_cost_gap(
            sol.objective, out["pyvrp_objective"], out["pyvrp_dropped_penalty"]
        )
    return out


def routing_cost_gap(ours: int, reference: int, reference_penalty: int) -> float | None:
    """``ours`` against ``reference`` in % of the reference's cost net of its drop penalties."""
    net = reference - reference_penalty
    return round(100 * (ours - reference) / net, 3) if net > 0 else None


def parser() -> argparse.ArgumentParser:
    """``bench solomon FILE`` and ``bench cpts`` sub-commands."""
    p = argparse.ArgumentParser(prog="bench", description="Scheduler benchmarks (JSON out)")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("solomon", help="solve a Solomon VRPTW file")
    s.add_argument("file")
    s.add_argument("--time-limit", type=float, default=5.0)
    s.add_argument("--seed", type=int, default=0)
    c = sub.add_parser("cpts", help="solve a seeded Bièvre morning, with PyVRP alongside")
    c.add_argument("--visits", type=int, default=40)
    c.add_argument("--gps", type=int, default=11)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--time-limit", type=float, default=5.0)
    c.add_argument("--no-reference", action="store_true", help="skip PyVRP")
    c.add_argument("--distance-only", action="store_true", help="no continuity or overtime costs")
    c.add_argument("--one-core", action="store_true", help="one search, without its rival")
    c.add_argument(
        "--first-solution-only", action="store_true", help="ours stops after the first plan"
    )
    return p


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run one benchmark and write ONE JSON object to ``out`` (stdout by default)."""
    args = parser().parse_args(list(argv) if argv is not None else None)
    if args.command == "solomon":
        result = bench_solomon(args.file, time_limit_s=args.time_limit, seed=args.seed)
    else:
        result = bench_cpts(
            visits=args.visits,
            gps=args.gps,
            seed=args.seed,
            time_limit_s=args.time_limit,
            reference=not args.no_reference,
            distance_only=args.distance_only,
            one_core=args.one_core,
            first_solution_only=args.first_solution_only,
        )
    stream = out or sys.stdout
    stream.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
