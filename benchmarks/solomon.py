"""Solomon benchmark: our OR-Tools engine vs PyVRP, same instances, same time limit.

Usage: ``python benchmarks/solomon.py --time-limit 5 --runs 3``. Prints one
line per instance (median distance over the runs, gap to PyVRP, feasibility
re-checked independently) and the mean gap, then a JSON summary line.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path

from scheduler.solomon import read_solomon, solve_solomon, solve_solomon_pyvrp

DATA = Path(__file__).resolve().parent / "data" / "solomon"  # public instances, see README there
NAMES = ("C101", "C201", "R101", "R201", "RC101", "RC201")


def feasible(inst, routes) -> bool:  # noqa: ANN001
    """Independent re-check: every customer once, capacity, windows, depot horizon."""
    served = sorted(c for r in routes for c in r)
    if served != list(range(1, len(inst.xy))) or len(routes) > inst.num_vehicles:
        return False
    for r in routes:
        if sum(inst.demand[c] for c in r) > inst.capacity:
            return False
        t, at = inst.ready[0] * 10, 0
        for c in r:
            t = max(t + int(math.dist(inst.xy[at], inst.xy[c]) * 10), inst.ready[c] * 10)
            if t > inst.due[c] * 10:
                return False
            t, at = t + inst.service[c] * 10, c
        if t + int(math.dist(inst.xy[at], inst.xy[0]) * 10) > inst.due[0] * 10:
            return False
    return True


def main() -> None:
    """Run the comparison and print the table."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--time-limit", type=float, default=5.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--instances", nargs="*", default=list(NAMES))
    args = ap.parse_args()
    rows = []
    for name in args.instances:
        inst = read_solomon(DATA / f"{name}.txt")
        ours, ref, ok = [], [], True
        for seed in range(1, args.runs + 1):
            mine = solve_solomon(inst, time_limit_s=args.time_limit, seed=seed)
            theirs = solve_solomon_pyvrp(inst, time_limit_s=args.time_limit, seed=seed)
            ok = ok and mine.feasible and feasible(inst, mine.routes)
            ours.append(mine.distance)
            ref.append(theirs.distance if theirs.feasible else math.inf)
        o, p = statistics.median(ours), statistics.median(ref)
        gap = 100 * (o / p - 1)
        rows.append({"instance": name, "ours": o, "pyvrp": p, "gap_pct": gap, "feasible": ok})
        print(
            f"{name:6s} ours {o:8.1f}  pyvrp {p:8.1f}  gap {gap:6.2f}%  feasible {ok}", flush=True
        )
    mean = statistics.mean(r["gap_pct"] for r in rows)
    print(f"mean gap {mean:.2f}% at {args.time_limit:g}s (median of {args.runs} runs)")
    print(
        json.dumps(
            {"time_limit_s": args.time_limit, "runs": args.runs, "mean_gap_pct": mean, "rows": rows}
        )
    )


if __name__ == "__main__":
    main()
