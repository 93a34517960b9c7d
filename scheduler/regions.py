"""Large mornings improved region by region: a few neighbouring rounds re-solved at a time.

On 320 visits / 60 GPs one OR-Tools descent over the whole morning takes about
3 s (every move is checked against all 60 rounds), so ILS gets a handful of
iterations in 10 s and ends 3–7 % above PyVRP; given 25 s it gets within 1 %
(benchmarks/RESULTS.md). Most of that scan is wasted: a visit is never worth
moving to a round across the territory. A *region* is the rounds of a GP and
of the GPs whose practices are nearest, with their visits and the dropped
visits nearest to them. Its sub-problem (18 rounds, ~95 visits) is solved from
scratch by the same ILS in a second; the new rounds replace the region's old
ones only when they cost less, the rest of the plan unchanged, so the plan
only improves. Two disjoint regions are solved side by side, one per core
(:mod:`scheduler.portfolio`). The idea is POPMUSIC's (Taillard & Voss 2002):
optimise, one after the other, sub-problems made of parts close to each other.

Every rule of a round (windows, capacity, allowed GPs, return time) involves
that round alone, so rounds taken from a feasible region plan, the others kept
as they were, make a feasible plan.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from scheduler.recombine import plan_cost, round_cost
from scheduler.vrp import RoutingProblem, RoutingSolution

#: Solves sub-problems side by side with a seed, and returns their solutions in
#: order (None for one that gave no answer).
SolveMany = Callable[[list[RoutingProblem], int], list[RoutingSolution | None]]


@dataclass(frozen=True)
class Region:
    """A sub-problem and where its vehicles and customers are in the whole morning."""

    problem: RoutingProblem
    vehicles: tuple[int, ...]
    customers: tuple[int, ...]

    def cost(self, whole: RoutingProblem, routes: Sequence[Sequence[int]]) -> int:
        """What ``routes`` (whole-morning indices, one per vehicle) cost inside this region."""
        served = {k for v in self.vehicles for k in routes[v]}
        rounds = sum(round_cost(whole, v, tuple(routes[v])) for v in self.vehicles if routes[v])
        return rounds + whole.drop_penalty(k for k in self.customers if k not in served)

    def routes_back(self, sol: RoutingSolution) -> dict[int, tuple[int, ...]]:
        """The sub-problem's rounds as whole-morning vehicle → customers."""
        return {
            v: tuple(self.customers[c] for c in route)
            for v, route in zip(self.vehicles, sol.routes, strict=True)
        }


def applicable(problem: RoutingProblem, size: int) -> bool:
    """Regions pay off only on mornings of three regions or more (54 GPs for 18-GP regions)."""
    return size > 0 and len(problem.vehicles) >= 3 * size


def neighbours(
    problem: RoutingProblem,
    vehicle: int,
    size: int,
    routes: Sequence[Sequence[int]] | None = None,
) -> tuple[int, ...]:
    """``vehicle`` and the ``size - 1`` vehicles nearest to it.

    Without ``routes``, nearest by practice; with them, by the shortest hop
    between the two GPs' practices and visits, so that two rounds crossing in
    a commune far from both practices meet in one region.
    """
    nd = problem.num_depots

    def points(v: int) -> list[int]:
        return [problem.vehicles[v].start, *(nd + k for k in (routes[v] if routes else ()))]

    mine = points(vehicle)

    def hop(v: int) -> int:
        return int(problem.travel[np.ix_(mine, points(v))].min())

    order = sorted(range(len(problem.vehicles)), key=lambda v: (v != vehicle, hop(v), v))
    return tuple(sorted(order[:size]))


def region(
    problem: RoutingProblem, routes: Sequence[Sequence[int]], vehicles: Sequence[int]
) -> Region:
    """The sub-problem of ``vehicles``: their visits and the dropped visits nearest to them.

    A dropped visit belongs to the region holding the practice nearest to it
    among the GPs allowed to serve it, so every region tries the dropped
    visits its GPs are the likeliest to take in.
    """
    chosen = set(vehicles)
    customers = [k for v in vehicles for k in routes[v]]
    served = {k for r in routes for k in r}
    everyone = range(len(problem.vehicles))
    for k, customer in enumerate(problem.customers):
        allowed = everyone if customer.allowed_vehicles is None else customer.allowed_vehicles
        if k in served or not allowed:
            continue
        point = problem.num_depots + k
        nearest = min(
            allowed, key=lambda v: (int(problem.travel[problem.vehicles[v].start, point]), v)
        )
        if nearest in chosen:
            customers.append(k)
    return Region(
        sub_problem(problem, tuple(vehicles), tuple(customers)), tuple(vehicles), tuple(customers)
    )


def sub_problem(
    problem: RoutingProblem, vehicles: tuple[int, ...], customers: tuple[int, ...]
) -> RoutingProblem:
    """The routing problem of ``vehicles`` and ``customers`` alone, re-indexed from 0."""
    depots = list(
        dict.fromkeys(
            p for v in vehicles for p in (problem.vehicles[v].start, problem.vehicles[v].end)
        )
    )
    idx = np.asarray(depots + [problem.num_depots + k for k in customers], dtype=np.int64)
    depot_at = {p: i for i, p in enumerate(depots)}
    classes = list(dict.fromkeys(problem.vehicles[v].cost_class for v in vehicles))
    class_at = {c: i for i, c in enumerate(classes)}
    vehicle_at = {v: i for i, v in enumerate(vehicles)}
    subs = []
    for k in customers:
        customer = problem.customers[k]
        allowed = customer.allowed_vehicles
        if allowed is not None:
            allowed = tuple(vehicle_at[v] for v in allowed if v in vehicle_at)
        subs.append(replace(customer, allowed_vehicles=allowed))
    return RoutingProblem(
        travel=problem.travel[np.ix_(idx, idx)],
        costs=tuple(problem.costs[c][np.ix_(idx, idx)] for c in classes),
        num_depots=len(depots),
        customers=tuple(subs),
        vehicles=tuple(
            replace(
                problem.vehicles[v],
                start=depot_at[problem.vehicles[v].start],
                end=depot_at[problem.vehicles[v].end],
                cost_class=class_at[problem.vehicles[v].cost_class],
            )
            for v in vehicles
        ),
    )


def sweep_batches(
    problem: RoutingProblem,
    size: int,
    seed: int,
    routes: Sequence[Sequence[int]] | None = None,
    *,
    pairs: bool = True,
) -> list[tuple[tuple[int, ...], ...]]:
    """One sweep's regions, as vehicle sets, in pairs that share no vehicle.

    Every vehicle seeds a region once, in an order drawn from ``seed``,
    unless an earlier region of the sweep already holds it. Neighbours are
    by practice, or by round with ``routes`` (:func:`neighbours`). Without
    ``pairs`` (one core) each region comes alone.
    """
    order = list(range(len(problem.vehicles)))
    random.Random(seed).shuffle(order)
    sets: list[tuple[int, ...]] = []
    covered: set[int] = set()
    for v in order:
        if v not in covered:
            sets.append(neighbours(problem, v, size, routes))
            covered.update(sets[-1])
    if not pairs:
        return [(vs,) for vs in sets]
    batches: list[tuple[tuple[int, ...], ...]] = []
    while sets:
        first = sets.pop(0)
        mate = next((s for s in sets if not set(s) & set(first)), None)
        if mate is None:
            batches.append((first,))
        else:
            sets.remove(mate)
            batches.append((first, mate))
    return batches


def improve(
    problem: RoutingProblem,
    incumbent: RoutingSolution,
    solve: SolveMany,
    *,
    size: int,
    seed: int,
    deadline: float,
    sweeps: int | None = None,
    batches: int | None = None,
    pairs: bool = True,
) -> RoutingSolution:
    """Re-solve regions of ``size`` vehicles, two at a time, keeping each cheaper plan.

    Odd sweeps shape their regions by the rounds as they stand at the sweep's start.

    Stops after ``sweeps`` sweeps (:func:`sweep_batches`) or ``batches``
    batches (pairs of regions, or single ones without ``pairs``), the
    deterministic stops, or at ``deadline`` (``time.perf_counter()``),
    whichever comes first.
    """
    routes = [tuple(r) for r in incumbent.routes]
    done = kept = 0
    for sweep in itertools.count():
        if sweeps is not None and sweep >= sweeps:
            break
        # Sweeps alternate regions by practice and by round: the same number of
        # region solves gave −0.35 to −0.59 % against PyVRP on 320 visits / 60 GPs,
        # seeds 0–4, where by practice alone gave +0.27 % (benchmarks/RESULTS.md).
        shaped_by = routes if sweep % 2 else None
        for batch in sweep_batches(problem, size, seed * 1_000 + sweep, shaped_by, pairs=pairs):
            if time.perf_counter() >= deadline or (batches is not None and done >= batches):
                return _result(problem, incumbent, routes, kept)
            pending = [region(problem, routes, vs) for vs in batch]
            kept += _solve_and_keep(problem, routes, pending, solve, seed * 1_000 + done)
            done += 1
    return _result(problem, incumbent, routes, kept)


def _result(
    problem: RoutingProblem, incumbent: RoutingSolution, routes: list[tuple[int, ...]], kept: int
) -> RoutingSolution:
    total, dropped = plan_cost(problem, routes)
    if total >= incumbent.objective:
        return incumbent
    return replace(
        incumbent,
        routes=tuple(routes),
        dropped=dropped,
        objective=total,
        notes={**incumbent.notes, "regions_kept": incumbent.notes.get("regions_kept", 0) + kept},
    )


def _solve_and_keep(
    problem: RoutingProblem,
    routes: list[tuple[int, ...]],
    pending: list[Region],
    solve: SolveMany,
    seed: int,
) -> int:
    """Solve ``pending``'s regions side by side; keep each cheaper plan. How many were kept."""
    kept = 0
    for reg, sol in zip(pending, solve([r.problem for r in pending], seed), strict=True):
        if sol is None or not sol.found:
            continue
        new = list(routes)
        for v, route in reg.routes_back(sol).items():
            new[v] = route
        if reg.cost(problem, new) < reg.cost(problem, routes):
            routes[:] = new
            kept += 1
    return kept
