"""The OR-Tools routing engine shared by the morning rounds and the Solomon benchmark.

A :class:`RoutingProblem` is a plain, solver-agnostic VRPTW: points ``0..D-1``
are depots, points ``D..`` are customers; times and costs are integers in one
unit (seconds for rounds, DIMACS tenths for Solomon). Each family of
constraints is added by its own ``add_<rule>`` helper.

Search: an insertion first solution, then OR-Tools' *iterated local search*
(ILS): each iteration ruins the current plan with SISR string removals
(Christiaens & Vanden Berghe 2020), re-inserts the removed visits by cheapest
insertion, descends to a local optimum and accepts the result by simulated
annealing. It beats guided local search (GLS) on both the Bièvre mornings and
Solomon at every limit we measured (benchmarks/RESULTS.md). ILS takes no
starting plan, so a re-plan from given routes also runs a descent from them
and keeps the cheaper result. GLS remains for problems with fewer visits than
twice the vehicles: OR-Tools 9.15's ruin step never returns when there are
fewer visits than vehicles.
ILS may race *rivals*: the same search from other first solutions, each in a
worker process (:mod:`scheduler.portfolio`). Each search records the rounds it
meets, and the result is the cheapest plan made of them all
(:mod:`scheduler.recombine`), never worse than the best search's own.
On mornings of three regions or more (54 GPs) ILS runs region by region
instead (:func:`solve_by_regions`, :mod:`scheduler.regions`): one descent over
60 rounds takes seconds there.

Determinism: OR-Tools' local search is deterministic for a given model, but a
wall-clock time limit cuts it at a machine-dependent point. The search is
therefore stopped by a *solution limit* (a count of accepted local-search
solutions, see :meth:`Parameters.effective_work_limit`) and the time limit is
only a safety cap; :attr:`RoutingSolution.stopped_by` says which one fired.
ILS cools its annealing temperature by ``max(elapsed / time limit, solutions /
solution limit)``. Accepted solutions come fastest early on, so whenever the
budget runs out before the clock (it is sized to, in a quarter to a half of
the limit on an idle machine) the solution count drives the cooling too.
The seed permutes the customers' order in the model, which changes insertion
and neighbourhood tie-breaks, hence the search trajectory. The recombination
solves its MIP to optimality, so the same rounds give the same plan, unless
the time left cuts it (logged; seen only on some 80-visit mornings).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util import optional_boolean_pb2

from scheduler import portfolio, regions
from scheduler.portfolio import side_by_side
from scheduler.recombine import plan_cost, recombine
from scheduler.vrp import IntMatrix, RoutingProblem, RoutingSolution

logger = logging.getLogger(__name__)

_FS = routing_enums_pb2.FirstSolutionStrategy
_TRUE = optional_boolean_pb2.OptionalBoolean.BOOL_TRUE
_FALSE = optional_boolean_pb2.OptionalBoolean.BOOL_FALSE
FIRST_SOLUTIONS = {
    name: getattr(_FS, name)
    for name in (
        "PARALLEL_CHEAPEST_INSERTION",
        "LOCAL_CHEAPEST_INSERTION",
        "LOCAL_CHEAPEST_COST_INSERTION",
        "SEQUENTIAL_CHEAPEST_INSERTION",
        "SAVINGS",
    )
}


def add_travel_costs(
    routing: pywrapcp.RoutingModel,
    problem: RoutingProblem,
    perm: list[int],
    *,
    by_rows: bool = False,
) -> None:
    """Arc costs per vehicle from matrices registered natively (no Python callbacks).

    The cost classes differ from the first one in a few columns (the visits
    preferring that GP): each is made from the first one's rows, with only
    those columns converted again. On 320 visits / 60 GPs (28 classes) that
    saves most of the ~0.1 s of converting 28 whole matrices.

    ``by_rows`` (the parallel cheapest insertion's plan alone, no search after it),
    when the problem gives its costs as one
    common matrix plus offsets per class and point left (``problem.row_costs``):
    the common matrix is registered for every vehicle and each class's offsets
    become a unary transit of a ``RowCosts`` dimension whose span costs 1 per
    unit. Every route costs the same, and so does every insertion, so OR-Tools'
    insertion heuristic builds the same plan, with one matrix to convert instead
    of 28–40 (320 visits / 60 GPs: ~45 → ~8 ms of the first plan). The searches
    keep the class matrices: their neighbourhoods are ordered by arc cost, and
    the offsets would reorder them (benchmarks/RESULTS.md, 2026-12-07).
    """
    if by_rows and problem.row_costs is not None:
        common, offsets = problem.row_costs
        routing.SetArcCostEvaluatorOfAllVehicles(
            routing.RegisterTransitMatrix(_permuted(common, perm))
        )
        if any(o.any() for o in offsets):
            idx = np.asarray(perm, dtype=np.int64)
            vectors = [routing.RegisterUnaryTransitVector(o[idx].tolist()) for o in offsets]
            bound = int(np.max(np.stack(offsets), axis=0).sum())
            routing.AddDimensionWithVehicleTransits(
                [vectors[vehicle.cost_class] for vehicle in problem.vehicles],
                0,
                max(1, bound),
                True,
                ROW_COSTS,
            )
            routing.GetDimensionOrDie(ROW_COSTS).SetSpanCostCoefficientForAllVehicles(1)
        return
    first = _permuted(problem.costs[0], perm)
    lists = [first]
    for other in problem.costs[1:]:
        lists.append(_permuted_like(first, problem.costs[0], other, perm))
    indices = [routing.RegisterTransitMatrix(m) for m in lists]
    for v, vehicle in enumerate(problem.vehicles):
        routing.SetArcCostEvaluatorOfVehicle(indices[vehicle.cost_class], v)


#: The dimension carrying the cost classes' row offsets (see :func:`add_travel_costs`).
ROW_COSTS = "RowCosts"
#: The first solution built on them: the only insertion checked to build the same plan
#: (the local and sequential ones order or seed the visits by arc costs, and differ).
ROWS_FIRST_SOLUTION = "PARALLEL_CHEAPEST_INSERTION"


def add_time_windows(
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    problem: RoutingProblem,
    perm: list[int],
) -> pywrapcp.RoutingDimension:
    """Time dimension: travel plus service at the origin, waiting allowed, windows hard."""
    pos = _inverse(perm)
    service = np.zeros(problem.num_points, dtype=np.int64)
    service[problem.num_depots :] = [c.service for c in problem.customers]
    transit = problem.travel + service[:, None]
    horizon = int(max(v.latest for v in problem.vehicles))
    callback = routing.RegisterTransitMatrix(_permuted(transit, perm))
    routing.AddDimension(callback, horizon, horizon, False, "Time")
    dim = routing.GetDimensionOrDie("Time")
    for k, customer in enumerate(problem.customers):
        index = manager.NodeToIndex(pos[problem.num_depots + k])
        dim.CumulVar(index).SetRange(int(customer.earliest), int(customer.latest))
    for v, vehicle in enumerate(problem.vehicles):
        dim.CumulVar(routing.Start(v)).SetRange(int(vehicle.earliest), int(vehicle.latest))
        dim.CumulVar(routing.End(v)).SetRange(int(vehicle.earliest), int(vehicle.latest))
        if vehicle.soft_latest is not None and vehicle.overtime_cost > 0:
            dim.SetCumulVarSoftUpperBound(
                routing.End(v), int(vehicle.soft_latest), int(vehicle.overtime_cost)
            )
    return dim


def add_capacity(routing: pywrapcp.RoutingModel, problem: RoutingProblem, perm: list[int]) -> None:
    """Capacity dimension: for rounds, one unit per visit against a GP's maximum."""
    demand = [0] * problem.num_depots + [c.demand for c in problem.customers]
    callback = routing.RegisterUnaryTransitVector([int(demand[p]) for p in perm])
    capacities = [int(v.capacity) for v in problem.vehicles]
    routing.AddDimensionWithVehicleCapacity(callback, 0, capacities, True, "Capacity")


def add_allowed_vehicles(
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    problem: RoutingProblem,
    perm: list[int],
) -> None:
    """Hard vehicle restrictions (language, eligibility) per customer."""
    pos = _inverse(perm)
    for k, customer in enumerate(problem.customers):
        if customer.allowed_vehicles is None:
            continue
        index = manager.NodeToIndex(pos[problem.num_depots + k])
        if not customer.allowed_vehicles:
            # No vehicle may serve it: forbid the node outright (it must be optional).
            routing.solver().Add(routing.ActiveVar(index) == 0)
        else:
            # SetAllowedVehiclesForIndex's Span binding is broken in OR-Tools 9.15;
            # restricting the vehicle variable is equivalent (-1 = not performed).
            routing.VehicleVar(index).SetValues([-1, *customer.allowed_vehicles])


def add_drop_penalties(
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    problem: RoutingProblem,
    perm: list[int],
) -> None:
    """Optional customers: a disjunction each, paying the penalty when dropped."""
    pos = _inverse(perm)
    for k, customer in enumerate(problem.customers):
        if customer.penalty is None:
            continue
        index = manager.NodeToIndex(pos[problem.num_depots + k])
        routing.AddDisjunction([index], int(customer.penalty))


#: The searches :func:`solve_routing` knows: ruin-and-recreate ILS, guided
#: local search, or the first solution improved by plain descent.
SEARCHES = ("ils", "gls", "descent")

#: SISR ruin sizes: the paper's suggested L_max = 10 and c̄ = 10. None of the
#: other sizes we tried (3/5 to 20/30) did better beyond run-to-run noise.
SISR_MAX_SEQUENCE = 10
SISR_AVG_REMOVED = 10
SISR_BYPASS = 0.01

#: The moves of ILS's descent. The ruin and recreate does the large moves; the
#: descent after it only needs the classic cheap ones (plus activating and
#: deactivating optional visits). With OR-Tools' full default set each descent
#: costs ~4× more and the Solomon mean gap at 5 s was 1.28 % instead of ~1 %.
ILS_OPERATORS = (
    "use_relocate",
    "use_exchange",
    "use_cross",
    "use_two_opt",
    "use_or_opt",
    "use_make_active",
    "use_make_inactive",
    "use_swap_active",
)


def ils_applicable(problem: RoutingProblem) -> bool:
    """Whether ILS may run: enough servable visits for the ruin step (see the module doc)."""
    servable = sum(1 for c in problem.customers if c.allowed_vehicles != ())
    return servable >= max(2 * len(problem.vehicles), 4)


def resolved_search(problem: RoutingProblem, search: str) -> str:
    """The search :func:`solve_routing` will run: "ils" falls back to GLS on small problems."""
    search = _search_name(search)
    return "gls" if search == "ils" and not ils_applicable(problem) else search


def add_iterated_local_search(params: Any) -> None:
    """SISR ruin, cheapest-insertion recreate, descent, annealing with scaled temperatures."""
    params.use_iterated_local_search = True
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
    operators = params.local_search_operators
    for op in operators.DESCRIPTOR.fields:
        setattr(operators, op.name, _TRUE if op.name in ILS_OPERATORS else _FALSE)
    ils = params.iterated_local_search_parameters
    sisr = ils.ruin_recreate_parameters.ruin_strategies.add().sisr
    sisr.max_removed_sequence_size = SISR_MAX_SEQUENCE
    sisr.avg_num_removed_visits = SISR_AVG_REMOVED
    sisr.bypass_factor = SISR_BYPASS
    ils.improve_perturbed_solution = True
    # Temperatures from the mean arc cost (0.1× down to 0.001×): seconds for the
    # rounds and DIMACS tenths for Solomon need no hand-set scale.
    ils.reference_solution_acceptance_strategy.simulated_annealing.automatic_temperatures = True


def search_parameters(
    *,
    time_limit_s: float,
    work_limit: int | None,
    first_solution: str,
    metaheuristic: str,
    gls_lambda: float | None = None,
    gls_reset_penalties: bool = False,
) -> Any:
    """Insertion first solution, then ILS or guided local search under a solution limit.

    ``metaheuristic`` is one of :data:`SEARCHES`. ``gls_lambda`` is GLS's
    penalty weight (OR-Tools' default 0.1 when None): the Bièvre mornings escape
    deep local optima better with 0.5 (see benchmarks/RESULTS.md); Solomon does
    best at the default.
    """
    search = _search_name(metaheuristic)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = FIRST_SOLUTIONS[first_solution]
    if search == "ils":
        add_iterated_local_search(params)
    elif search == "gls":
        params.local_search_metaheuristic = (
            routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
        )
        if gls_lambda is not None:
            params.guided_local_search_lambda_coefficient = gls_lambda
        # Forget GLS penalties on each new best: helps the rounds out of plateaus.
        params.guided_local_search_reset_penalties_on_new_best_solution = gls_reset_penalties
    if work_limit is not None:
        params.solution_limit = int(work_limit)
    params.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
    return params


def solve_routing(
    problem: RoutingProblem,
    *,
    time_limit_s: float,
    work_limit: int | None,
    seed: int = 0,
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION",
    metaheuristic: str = "ils",
    initial_routes: list[list[int]] | None = None,
    gls_lambda: float | None = None,
    gls_reset_penalties: bool = False,
    rivals: Sequence[str] = (),
    recombine_rounds: bool = True,
    region_vehicles: int = 0,
) -> RoutingSolution:
    """Solve a :class:`RoutingProblem` with OR-Tools; routes are customer indices.

    ``metaheuristic`` names the search (:data:`SEARCHES`); "ils" falls back to
    GLS on a problem :func:`ils_applicable` refuses. ILS takes no starting
    plan: with ``initial_routes`` it searches from scratch, a descent improves
    the given routes in the time left (at least a fifth of the limit, so the
    whole may run to 1.2× the limit), and the cheaper plan wins, so the
    result never costs more than the improved starting plan (promises and
    pinned visits are hard either way). :attr:`RoutingSolution.search` says
    which search produced the result.

    ``rivals`` are further first-solution strategies for ILS: each runs the
    same search from its own first solution in a worker process, side by side
    with ``first_solution`` (:mod:`scheduler.portfolio`), and the cheapest
    plan wins, the earlier strategy on a tie. On the 80-visit mornings one ILS
    run ends anywhere between 1 % and 10 % above PyVRP depending on the seed,
    and a run from another first solution seldom lands as badly on the same
    morning (benchmarks/RESULTS.md). With ``recombine_rounds`` the ILS runs
    keep the rounds they meet and the best plan made of them all wins
    (:mod:`scheduler.recombine`).

    On a morning of three regions of ``region_vehicles`` GPs or more, ILS
    runs region by region instead (:func:`solve_by_regions`); 0 never does.
    Without ``rivals`` (one core) the regions are solved one at a time.
    """
    search = resolved_search(problem, metaheuristic)
    if search == "ils" and regions.applicable(problem, region_vehicles):
        return solve_by_regions(
            problem,
            time_limit_s=time_limit_s,
            work_limit=work_limit,
            seed=seed,
            size=region_vehicles,
            initial_routes=initial_routes,
            pairs=bool(rivals),
        )
    if search == "ils":
        started = time.perf_counter()
        strategies = tuple(dict.fromkeys((first_solution, *rivals)))
        fresh = _race(problem, time_limit_s, work_limit, seed, strategies, recombine_rounds)
        if not initial_routes:
            return replace(fresh, wall_time_s=time.perf_counter() - started)
        left = max(0.2 * time_limit_s, time_limit_s - (time.perf_counter() - started))
        warm = _solve_once(
            problem, left, None, "descent", initial_routes, seed=seed, first_solution=first_solution
        )
        candidates = [c for c in (fresh, warm) if c.found]
        best = min(candidates, key=lambda c: c.objective) if candidates else fresh
        return replace(best, wall_time_s=time.perf_counter() - started)
    return _solve_once(
        problem,
        time_limit_s,
        work_limit,
        search,
        initial_routes,
        gls_lambda=gls_lambda,
        gls_reset_penalties=gls_reset_penalties,
        seed=seed,
        first_solution=first_solution,
    )


#: The first plan of a solve by regions: the cheapest insertion *with* every cost. The
#: others insert by arc cost alone; on 320 visits / 60 GPs their plans carry
#: ~28,000 s-equivalents of overtime (82,976 against 56,569 on seed 0) that the
#: region solves then spend their time removing.
REGIONS_FIRST_SOLUTION = "LOCAL_CHEAPEST_COST_INSERTION"
#: Share of the time limit each region solve gets (1 s of 10 s). A first sweep of
#: half-size regions, each given a quarter of that, repairs the first plan quickly.
REGION_SHARE = 0.1


def solve_by_regions(
    problem: RoutingProblem,
    *,
    time_limit_s: float,
    work_limit: int | None,
    seed: int,
    size: int,
    initial_routes: list[list[int]] | None = None,
    pairs: bool = True,
) -> RoutingSolution:
    """The cheapest-cost insertion's plan (or ``initial_routes``), improved by regions.

    A first sweep of regions of ``size // 2`` GPs, then regions of ``size``
    until the time is up (:func:`scheduler.regions.improve`). Each region is
    solved by ILS from scratch, two side by side (one at a time in this
    process without ``pairs``). With ``work_limit`` (the
    deterministic budget of the whole morning) each region solve gets its
    share of it and the number of regions is fixed, so that a seed gives one
    plan; the time limit then only caps.
    """
    started = time.perf_counter()
    end = started + time_limit_s
    best = _solve_once(
        problem, time_limit_s, 1, "descent", None, seed=seed, first_solution=REGIONS_FIRST_SOLUTION
    )
    if initial_routes:
        cost, dropped = plan_cost(problem, initial_routes)
        if not best.found or cost < best.objective:
            best = replace(
                best,
                routes=tuple(tuple(r) for r in initial_routes),
                dropped=dropped,
                objective=cost,
                found=True,
            )
    if not best.found:
        return replace(best, wall_time_s=time.perf_counter() - started)
    for phase, (part, share, sweeps, batches) in enumerate(
        (
            (size // 2, REGION_SHARE / 4, 1, None),
            (size, REGION_SHARE, None, int(0.8 / REGION_SHARE) if work_limit is not None else None),
        )
    ):
        seconds = share * time_limit_s
        solve = partial(
            _solve_regions,
            seconds=seconds,
            end=end,
            work_limit=work_limit,
            share=share,
            customers=len(problem.customers),
        )
        best = regions.improve(
            problem,
            best,
            solve,
            size=part,
            seed=2 * seed + phase,
            deadline=end - seconds / 2,
            sweeps=sweeps,
            batches=batches,
            pairs=pairs,
        )
    elapsed = time.perf_counter() - started
    clock = work_limit is None or elapsed >= 0.98 * time_limit_s
    return replace(
        best,
        search="ils",
        wall_time_s=elapsed,
        stopped_by="time_limit" if clock else "work_limit",
    )


def _solve_regions(
    subs: list[RoutingProblem],
    seed: int,
    *,
    seconds: float,
    end: float,
    work_limit: int | None,
    share: float,
    customers: int,
) -> list[RoutingSolution | None]:
    """Region sub-problems solved side by side, each by ILS from the cheapest-cost insertion.

    A region's budget is its share of the morning's, scaled by its size
    (the rate of accepted solutions goes as one over the visits), at least 10
    solutions: the whole solve's floor of 50 outlasted a 0.2 s region solve
    (320 visits at 2 s), whose clock then cut it and two runs differed.
    """
    limit = max(0.05, min(seconds, end - time.perf_counter()))
    calls = [
        partial(
            _solve_once,
            sub,
            limit,
            None
            if work_limit is None
            else max(10, int(work_limit * share * customers / max(len(sub.customers), 10))),
            resolved_search(sub, "ils"),
            None,
            seed=seed,
            first_solution=REGIONS_FIRST_SOLUTION,
        )
        for sub in subs
    ]
    return side_by_side(calls, timeout_s=limit + 30.0)


#: Share of an ILS solve's time limit kept to recombine the rounds its searches
#: met (scheduler.recombine); the searches get the rest, and the recombination
#: whatever of the limit they left.
RECOMBINE_SHARE = 0.15


def _solver_ready() -> bool:
    return True


def warm_up(workers: int = 2) -> None:
    """Start the race's worker processes with this solver imported, before anything is timed."""
    portfolio.warm_up(_solver_ready, workers)


def _race(
    problem: RoutingProblem,
    time_limit_s: float,
    work_limit: int | None,
    seed: int,
    strategies: Sequence[str],
    recombine_rounds: bool,
) -> RoutingSolution:
    """ILS from each first-solution strategy, side by side, then their rounds recombined."""
    started = time.perf_counter()
    search_limit = time_limit_s * (1 - RECOMBINE_SHARE) if recombine_rounds else time_limit_s
    calls = [
        partial(
            _solve_once,
            problem,
            search_limit,
            work_limit,
            "ils",
            None,
            seed=seed,
            first_solution=s,
            collect=recombine_rounds,
        )
        for s in strategies
    ]
    # A worker's own time limit bounds it; the margin covers a cold pool's start.
    results = [r for r in side_by_side(calls, timeout_s=time_limit_s + 30.0) if r is not None]
    found = [r for r in results if r.found]
    if not found:
        return replace(results[0], routes_met=frozenset())
    best = min(found, key=lambda r: r.objective)
    if recombine_rounds:
        met = frozenset().union(*(r.routes_met for r in found))
        left = time_limit_s - (time.perf_counter() - started)
        best = recombine(problem, met, best, time_limit_s=max(0.05, left))
    return replace(best, routes_met=frozenset())


def _solve_once(
    problem: RoutingProblem,
    time_limit_s: float,
    work_limit: int | None,
    search: str,
    initial_routes: list[list[int]] | None,
    *,
    seed: int,
    first_solution: str,
    gls_lambda: float | None = None,
    gls_reset_penalties: bool = False,
    collect: bool = False,
) -> RoutingSolution:
    """One OR-Tools solve with one search, from scratch or from ``initial_routes``.

    ``collect`` records every distinct round of every solution the search
    accepts (:attr:`RoutingSolution.routes_met`).
    """
    started = time.perf_counter()
    perm = _permutation(problem, seed)
    pos = _inverse(perm)
    starts = [pos[v.start] for v in problem.vehicles]
    ends = [pos[v.end] for v in problem.vehicles]
    manager = pywrapcp.RoutingIndexManager(problem.num_points, len(problem.vehicles), starts, ends)
    routing = pywrapcp.RoutingModel(manager)
    # The parallel cheapest insertion's plan alone (a budget of one solution, no starting
    # plan): one cost matrix (the same plan; the other insertions order visits otherwise).
    by_rows = work_limit == 1 and not initial_routes and first_solution == ROWS_FIRST_SOLUTION
    add_travel_costs(routing, problem, perm, by_rows=by_rows)
    add_time_windows(routing, manager, problem, perm)
    add_capacity(routing, problem, perm)
    add_allowed_vehicles(routing, manager, problem, perm)
    add_drop_penalties(routing, manager, problem, perm)
    params = search_parameters(
        time_limit_s=time_limit_s,
        work_limit=work_limit,
        first_solution=first_solution,
        metaheuristic=search,
        gls_lambda=gls_lambda,
        gls_reset_penalties=gls_reset_penalties,
    )
    if work_limit is not None and work_limit > 1:
        # A search that accepts no new solution (a one-visit round) still
        # branches; bounding branches too keeps every stop deterministic. Not
        # for the first plan alone (a budget of 1, stopped by the solution
        # limit): on mornings of 20 GPs or more the insertion heuristic itself
        # takes more than 50 branches, and the cut left every visit dropped.
        routing.AddSearchMonitor(routing.solver().BranchesLimit(50 * int(work_limit)))
    met: set[tuple[int, tuple[int, ...]]] = set()
    if collect:
        routing.AddAtSolutionCallback(partial(_record_routes, routing, manager, perm, problem, met))
    if initial_routes:
        model_routes = [
            [manager.NodeToIndex(pos[problem.num_depots + c]) for c in r] for r in initial_routes
        ]
        routing.CloseModelWithParameters(params)
        initial = routing.ReadAssignmentFromRoutes(model_routes, True)
        assignment = routing.SolveFromAssignmentWithParameters(initial, params)
    elif search == "ils":
        # SolveWithParameters ignores use_iterated_local_search: ILS has its own entry.
        assignment = routing.SolveWithIteratedLocalSearch(params)
    else:
        assignment = routing.SolveWithParameters(params)
    elapsed = time.perf_counter() - started
    solutions = int(routing.solver().Solutions())
    if assignment is None:
        logger.warning("routing found no solution in %.2fs", elapsed)
        empty = tuple(() for _ in problem.vehicles)
        return RoutingSolution(
            empty, tuple(range(len(problem.customers))), 0, elapsed, solutions, "none", False
        )
    routes = []
    for v in range(len(problem.vehicles)):
        route = []
        index = routing.NextVar(routing.Start(v))
        index = assignment.Value(index)
        while not routing.IsEnd(index):
            route.append(perm[manager.IndexToNode(index)] - problem.num_depots)
            index = assignment.Value(routing.NextVar(index))
        routes.append(tuple(route))
    served = {c for r in routes for c in r}
    dropped = tuple(c for c in range(len(problem.customers)) if c not in served)
    if search == "ils":
        # ILS ends only on its budget or the clock; the solver's counters (and so
        # ``solutions``) cover its last iteration only.
        hit_work = work_limit is not None and elapsed < time_limit_s * 0.98
    else:
        hit_work = work_limit is not None and (
            solutions >= work_limit or routing.solver().Branches() >= 50 * work_limit
        )
    stopped_by = "work_limit" if hit_work else "time_limit"
    if not hit_work and elapsed < time_limit_s * 0.98:
        stopped_by = "local_optimum"
    logger.debug("routing: %d solutions in %.2fs, stopped by %s", solutions, elapsed, stopped_by)
    return RoutingSolution(
        tuple(routes),
        dropped,
        int(assignment.ObjectiveValue()),
        elapsed,
        solutions,
        stopped_by,
        search=search,
        first_solution=first_solution,
        routes_met=frozenset(met),
    )


def _record_routes(
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    perm: list[int],
    problem: RoutingProblem,
    met: set[tuple[int, tuple[int, ...]]],
) -> None:
    """At-solution callback: add the current solution's non-empty rounds to ``met``."""
    for v in range(len(problem.vehicles)):
        index = routing.NextVar(routing.Start(v)).Value()
        route = []
        while not routing.IsEnd(index):
            route.append(perm[manager.IndexToNode(index)] - problem.num_depots)
            index = routing.NextVar(index).Value()
        if route:
            met.add((v, tuple(route)))


def _search_name(metaheuristic: str) -> str:
    if metaheuristic not in SEARCHES:
        raise ValueError(f"unknown search {metaheuristic!r}; one of {SEARCHES}")
    return metaheuristic


def _permutation(problem: RoutingProblem, seed: int) -> list[int]:
    """Model node k is problem point perm[k]; depots stay first, customers shuffled by seed."""
    customers = list(range(problem.num_depots, problem.num_points))
    if seed:
        random.Random(seed).shuffle(customers)
    return list(range(problem.num_depots)) + customers


def _inverse(perm: list[int]) -> list[int]:
    pos = [0] * len(perm)
    for k, p in enumerate(perm):
        pos[p] = k
    return pos


def _permuted_like(
    base_rows: list[list[int]], base: IntMatrix, matrix: IntMatrix, perm: list[int]
) -> list[list[int]]:
    """:func:`_permuted` of ``matrix``, given that of ``base``, which it differs from by columns."""
    idx = np.asarray(perm, dtype=np.int64)
    changed = np.flatnonzero((np.asarray(matrix) != np.asarray(base)).any(axis=0))
    if len(changed) * 4 > len(perm):
        return _permuted(matrix, perm)
    rows = [row.copy() for row in base_rows]
    pos = _inverse(perm)
    for col in changed.tolist():
        values = np.asarray(matrix)[idx, col].astype(np.int64).tolist()
        j = pos[col]
        for row, value in zip(rows, values, strict=True):
            row[j] = value
    return rows


def _permuted(matrix: IntMatrix, perm: list[int]) -> list[list[int]]:
    idx = np.asarray(perm, dtype=np.int64)
    return matrix[np.ix_(idx, idx)].astype(np.int64).tolist()
