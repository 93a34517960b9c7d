"""Searches side by side: ILS from a second first solution in a worker process."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from functools import partial

from checker import check_rounds

from scheduler import Parameters, portfolio, solve_rounds
from scheduler.bievre import morning
from scheduler.plan import build_rounds_model
from scheduler.routing import solve_routing

PCI, LCI = "PARALLEL_CHEAPEST_INSERTION", "LOCAL_CHEAPEST_INSERTION"


class _Broken(Executor):
    """A pool whose every job fails as a crashed worker process would."""

    def submit(self, fn, /, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201
        future: Future = Future()
        future.set_exception(BrokenProcessPool("worker died"))
        return future


class _Stalled(Executor):
    """A pool whose jobs never finish."""

    def submit(self, fn, /, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201
        return Future()


def _pid_once_both_run(barrier) -> int:  # noqa: ANN001
    barrier.wait(timeout=60)  # returns only while the other call runs too
    return os.getpid()


def test_the_calls_run_at_the_same_time_each_in_its_own_process():
    with multiprocessing.Manager() as manager:
        barrier = manager.Barrier(2)
        calls = [partial(_pid_once_both_run, barrier) for _ in range(2)]
        pids = portfolio.side_by_side(calls, timeout_s=120.0)
    assert os.getpid() not in pids
    assert len(set(pids)) == 2


def test_a_broken_pool_runs_the_call_in_this_thread_instead():
    results = portfolio.side_by_side(
        [partial(int, "1"), partial(int, "2")], timeout_s=5.0, executor=_Broken()
    )
    assert results == [1, 2]


def test_a_worker_that_never_answers_is_given_up():
    results = portfolio.side_by_side(
        [partial(int, "1"), partial(int, "2")], timeout_s=0.05, executor=_Stalled()
    )
    assert results == [None, None]


def test_the_race_keeps_the_cheaper_search_and_says_which_won():
    problem = build_rounds_model(morning(40, 11, 5), Parameters(seed=5)).problem
    # The race alone: recombination is tested in test_scheduler_recombine.
    common = {
        "time_limit_s": 30.0,
        "work_limit": 150,
        "seed": 5,
        "metaheuristic": "ils",
        "recombine_rounds": False,
    }
    alone = {fs: solve_routing(problem, first_solution=fs, **common) for fs in (PCI, LCI)}
    # The two searches end on different plans on this morning: the race has a choice.
    assert alone[PCI].objective != alone[LCI].objective
    raced = solve_routing(problem, first_solution=PCI, rivals=(LCI,), **common)
    winner = min((PCI, LCI), key=lambda fs: alone[fs].objective)
    assert raced.objective == alone[winner].objective
    assert raced.routes == alone[winner].routes
    assert raced.first_solution == winner
    again = solve_routing(problem, first_solution=PCI, rivals=(LCI,), **common)
    assert again.routes == raced.routes


def test_rounds_race_by_default_and_the_plan_checks_out():
    instance = morning(40, 11, 5)
    params = Parameters(time_limit_s=30.0, work_limit=150, seed=5, recombine_rounds=False)
    raced = solve_rounds(instance, params)
    check_rounds(instance, raced, params)
    alone = [
        solve_rounds(instance, replace(params, first_solution=fs, rival_first_solutions=()))
        for fs in (PCI, LCI)
    ]
    assert raced.search == "ils"
    assert raced.objective["total"] == min(a.objective["total"] for a in alone)
