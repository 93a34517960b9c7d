"""The solver's growth: Bièvre mornings of 40 to 320 visits, 11 to 60 GPs, against PyVRP.

Usage: ``python benchmarks/cpts_growth.py`` (seed 0, 5 s and 10 s, the four sizes);
``--sizes 320x60 --limits 10 --seeds 2`` for one row. Beyond the demo's 11 GPs the
team grows by synthetic titular/adjoint pairs (scheduler.bievre.synthetic_pairs).

Each solve runs in a fresh child process (``--child``) so that its memory is its
own: ``peak_mb`` is the sum of the peak resident sets (VmHWM) of the solving
process and its worker processes (ours runs two searches, or from 54 GPs two
region solves, at a time in two workers, scheduler.portfolio and
scheduler.regions; PyVRP runs one search in the process), ``base_mb`` the same
sum once the solver is imported and its workers started, before the model is
built. The gap is the benchmark's (scheduler.bench.routing_cost_gap): ours
over PyVRP at the same limit, in % of PyVRP's cost net of its drop penalties.
``first plan`` is the insertion heuristic's plan, model building included
(median of 5 seeds), wall and CPU time (``--first-plan-only``: that alone).
Prints a line per run, a Markdown table and a final JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SIZES = ((40, 11), (80, 20), (160, 40), (320, 60))


def _vm(pid: int | str, key: str) -> float:
    """A /proc/<pid>/status memory figure in MB (0 if the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children() -> list[str]:
    pids: list[str] = []
    for task in Path("/proc/self/task").iterdir():
        try:
            pids += (task / "children").read_text().split()
        except OSError:
            pass
    return pids


def _memory(key: str) -> float:
    """``key`` (VmHWM or VmRSS) summed over this process and its children."""
    return round(_vm("self", key) + sum(_vm(p, key) for p in _children()), 1)


def child(solver: str, visits: int, gps: int, seed: int, limit: float) -> dict[str, Any]:
    """One solve in this (fresh) process: ours or PyVRP's, with its memory."""
    from scheduler import routing
    from scheduler.bench import cpts_model, pyvrp_on
    from scheduler.rounds import solve_model

    if solver == "ours":
        routing.warm_up()  # the race's workers, started before anything is measured
    else:
        import pyvrp  # noqa: F401  (imported before the baseline, as ours is)
    base = _memory("VmRSS")
    model = cpts_model(visits, gps, seed, limit)
    out: dict[str, Any] = {"gps": len(model.duties), "base_mb": base}
    started = time.perf_counter()
    if solver == "ours":
        sol = solve_model(model)
        out |= {
            "objective": sol.objective,
            "dropped": len(sol.dropped),
            "winner": sol.first_solution,
            "recombined": "recombined_from" in sol.notes,
        }
    else:
        ref = pyvrp_on(model)
        out |= {
            "objective": ref["pyvrp_objective"],
            "dropped": len(ref["pyvrp_dropped"]),
            "dropped_penalty": ref["pyvrp_dropped_penalty"],
        }
    out["time_s"] = round(time.perf_counter() - started, 2)
    out["peak_mb"] = _memory("VmHWM")
    return out


def run_child(solver: str, visits: int, gps: int, seed: int, limit: float) -> dict[str, Any]:
    """:func:`child` in a new interpreter (its memory figures are then its solve's alone)."""
    args = [sys.executable, __file__, "--child", solver, str(visits), str(gps), str(seed)]
    done = subprocess.run(
        [*args, str(limit)], check=True, capture_output=True, text=True, env=dict(os.environ)
    )
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def first_plan_ms(visits: int, gps: int, seeds: int = 5) -> tuple[float, float]:
    """Median wall and CPU time of the insertion heuristic's plan, model building included.

    The CPU time is this process's: on a loaded machine it is what the wall time would
    be on an idle one.
    """
    from scheduler import Parameters, solve_rounds
    from scheduler.bievre import morning

    wall, cpu = [], []
    for seed in range(seeds):
        instance = morning(visits, gps, seed)
        started, started_cpu = time.perf_counter(), time.process_time()
        plan = solve_rounds(instance, Parameters(seed=seed), first_solution_only=True)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        assert not plan.check()
    return round(1000 * statistics.median(wall), 1), round(1000 * statistics.median(cpu), 1)


def main() -> None:
    """Run every size and limit and print the table."""
    from scheduler.bench import routing_cost_gap

    ap = argparse.ArgumentParser()
    ap.add_argument("--child", nargs=5, metavar=("SOLVER", "VISITS", "GPS", "SEED", "LIMIT"))
    ap.add_argument("--sizes", nargs="*", default=[f"{v}x{g}" for v, g in SIZES])
    ap.add_argument("--limits", nargs="*", type=float, default=[5.0, 10.0])
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--first-plan-only", action="store_true", help="no search, no PyVRP")
    args = ap.parse_args()
    if args.child:
        solver, visits, gps, seed, limit = args.child
        print(json.dumps(child(solver, int(visits), int(gps), int(seed), float(limit))))
        return
    print(f"load before: {os.getloadavg()}", flush=True)
    rows = []
    for size in args.sizes:
        visits, gps = (int(x) for x in size.split("x"))
        first, first_cpu = first_plan_ms(visits, gps)
        if args.first_plan_only:
            print(f"{visits} visits / {gps} GPs: first plan {first} ms wall, {first_cpu} ms CPU")
            continue
        for limit in args.limits:
            for seed in range(args.seeds):
                ours = run_child("ours", visits, gps, seed, limit)
                ref = run_child("pyvrp", visits, gps, seed, limit)
                gap = routing_cost_gap(ours["objective"], ref["objective"], ref["dropped_penalty"])
                row = {
                    "visits": visits,
                    "gps": ours["gps"],
                    "seed": seed,
                    "limit_s": limit,
                    "gap_pct": gap,
                    "first_plan_ms": first,
                    "first_plan_cpu_ms": first_cpu,
                    "ours": ours,
                    "pyvrp": ref,
                    "load": os.getloadavg()[0],
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
    print()
    print(
        "| visits | GPs | limit | gap to PyVRP | dropped (ours / PyVRP) | first plan wall (CPU) "
        "| peak memory ours (base) | PyVRP (base) | 1-min load |"
    )
    print("|---:|---:|---:|---:|---|---:|---|---|---:|")
    for r in rows:
        o, p = r["ours"], r["pyvrp"]
        print(
            f"| {r['visits']} | {r['gps']} | {r['limit_s']:g} s | {r['gap_pct']:+.2f} % "
            f"| {o['dropped']} / {p['dropped']} "
            f"| {r['first_plan_ms']:.0f} ms ({r['first_plan_cpu_ms']:.0f}) "
            f"| {o['peak_mb']:.0f} MB ({o['base_mb']:.0f}) "
            f"| {p['peak_mb']:.0f} MB ({p['base_mb']:.0f}) | {r['load']:.1f} |"
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
