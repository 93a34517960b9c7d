"""Orientation matching: min-cost flow vs the greedy "closest GP with room" baseline.

Usage: ``python benchmarks/orientation.py --runs 5``. 5,000 waiting patients over
the 5 communes of the Bièvre and 60 GPs (capacity for 75 % of them), several
seeds; prints the median solve time, the share of capacity used, and for both
methods the patients matched, the vulnerable patients matched and the mean
travel. Ends with a JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.orientation.matching import greedy, match  # noqa: E402
from app.orientation.synthetic import bievre_instance  # noqa: E402


def run(patients: int, gps: int, runs: int) -> dict[str, float]:
    rows = []
    for seed in range(runs):
        waiting, available = bievre_instance(patients, gps, seed=seed)
        flow = match(waiting, available)
        base = greedy(waiting, available)
        rows.append(
            {
                "solve_s": flow.solve_seconds,
                "greedy_s": base.solve_seconds,
                "capacity_used": flow.capacity_used,
                "greedy_capacity_used": base.capacity_used,
                "matched": flow.stats["matched"],
                "greedy_matched": base.stats["matched"],
                "vulnerable": flow.stats["vulnerable_matched"],
                "greedy_vulnerable": base.stats["vulnerable_matched"],
                "travel": flow.stats["mean_travel_minutes"],
                "greedy_travel": base.stats["mean_travel_minutes"],
                "language": flow.stats["language_matched"],
                "greedy_language": base.stats["language_matched"],
            }
        )
        worse = (
            flow.stats["matched"] < base.stats["matched"]
            or flow.stats["vulnerable_matched"] < base.stats["vulnerable_matched"]
            or flow.stats["mean_travel_minutes"] > base.stats["mean_travel_minutes"] + 1e-9
        )
        print(
            f"seed {seed}: flow {flow.solve_seconds:.2f}s matched {flow.stats['matched']:.0f} "
            f"vulnerable {flow.stats['vulnerable_matched']:.0f} "
            f"travel {flow.stats['mean_travel_minutes']:.2f} min | greedy matched "
            f"{base.stats['matched']:.0f} vulnerable {base.stats['vulnerable_matched']:.0f} "
            f"travel {base.stats['mean_travel_minutes']:.2f} min"
            + ("  <-- WORSE THAN GREEDY" if worse else "")
        )
    return {key: statistics.median(r[key] for r in rows) for key in rows[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--gps", type=int, default=60)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    med = run(args.patients, args.gps, args.runs)
    print()
    print(f"median over {args.runs} runs, {args.patients} patients × {args.gps} GPs")
    print(f"{'':22}{'min-cost flow':>16}{'greedy':>12}")
    print(f"{'solve time (s)':22}{med['solve_s']:>16.2f}{med['greedy_s']:>12.2f}")
    print(f"{'capacity used':22}{med['capacity_used']:>16.1%}{med['greedy_capacity_used']:>12.1%}")
    print(f"{'patients matched':22}{med['matched']:>16.0f}{med['greedy_matched']:>12.0f}")
    print(f"{'vulnerable matched':22}{med['vulnerable']:>16.0f}{med['greedy_vulnerable']:>12.0f}")
    print(f"{'mean travel (min)':22}{med['travel']:>16.2f}{med['greedy_travel']:>12.2f}")
    print(f"{'language matched':22}{med['language']:>16.0f}{med['greedy_language']:>12.0f}")
    print(json.dumps({"benchmark": "orientation", **med}))


if __name__ == "__main__":
    main()
