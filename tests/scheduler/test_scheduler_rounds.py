"""Morning rounds: each hard rule has a scenario that fails without it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from checker import check_rounds
from factories import (
    CACHAN,
    FAST,
    FRESNES,
    RUNGIS,
    make_adjoint,
    make_gp,
    make_instance,
    make_visit,
    near,
    rounds,
    tele,
)

from scheduler import DropReason, Parameters, Urgency, Window, solve_rounds
from scheduler.bievre import morning


def test_bievre_morning_is_feasible_by_the_independent_checker():
    instance = morning(visits=25, gps=11, seed=3)
    plan = solve_rounds(instance, FAST)
    checked = check_rounds(instance, plan, FAST)
    assert checked.served + len(plan.dropped) == 25
    assert plan.check() == []


def test_time_window_forces_a_late_arrival_at_a_nearby_patient():
    # Nearest-first would see "late" at 10:02; its window says after 12:00.
    gp = make_gp("T1")
    visits = [
        make_visit("late", near(CACHAN, 300), window=Window(720, 750)),
        make_visit("far", near(CACHAN, 2500)),
    ]
    instance = make_instance([gp], [rounds("T1")], visits)
    plan = solve_rounds(instance, FAST)
    check_rounds(instance, plan, FAST)
    assert 720 <= plan.stop("late").arrival <= 750


def test_capacity_per_gp_spreads_visits_and_drops_the_excess():
    gps = [make_gp("T1", max_visits=2), make_gp("T2", RUNGIS, max_visits=1)]
    visits = [make_visit(f"v{i}", near(CACHAN, 100 * i)) for i in range(4)]
    instance = make_instance(gps, [rounds("T1"), rounds("T2")], visits)
    plan = solve_rounds(instance, FAST)
    check_rounds(instance, plan, FAST)
    assert len(plan.route_of("T1").stops) == 2
    assert len(plan.route_of("T2").stops) == 1
    assert [d.reason for d in plan.dropped] == [DropReason.CAPACITY]


def test_language_is_a_hard_requirement():
    gps = [make_gp("T1"), make_gp("T2", RUNGIS, languages=frozenset({"fr", "ar"}))]
    visits = [make_visit("ar", near(CACHAN, 100), language="ar")]
    instance = make_instance(gps, [rounds("T1"), rounds("T2")], visits)
    plan = solve_rounds(instance, FAST)
    check_rounds(instance, plan, FAST)
    assert plan.assignment() == {"ar": "T2"}


@pytest.mark.parametrize(
    ("titular_sessions", "adjoint_gets_route", "why"),
    [
        ([], False, "adjoint_without_titular"),
        ([rounds("T1", 600, 660)], True, None),
        ([tele("T1")], False, "adjoint_without_titular"),
    ],
    ids=["titular-off", "titular-on-duty", "titular-only-in-the-afternoon"],
)
def test_adjoint_works_only_alongside_their_titular(titular_sessions, adjoint_gets_route, why):
    gps = [make_gp("T1", RUNGIS), make_adjoint("A1", "T1")]
    visits = [make_visit("v1", near(CACHAN, 200))]
    instance = make_instance(gps, [rounds("A1"), *titular_sessions], visits)
    plan = solve_rounds(instance, FAST)
    check_rounds(instance, plan, FAST)
    route = plan.route_of("A1")
    assert bool(route and route.stops) is adjoint_gets_route
    assert plan.excluded_practitioners.get("A1") == why


def test_adjoint_hours_are_clipped_to_the_titulars():
    gps = [make_gp("T1", RUNGIS), make_adjoint("A1", "T1")]
    visits = [make_visit("noon", near(CACHAN, 200), window=Window(720, 760))]
    instance = make_instance(gps, [rounds("A1"), rounds("T1", 600, 660)], visits)
    plan = solve_rounds(instance, FAST)
    check_rounds(instance, plan, FAST)
    assert [d.reason for d in plan.dropped] == [DropReason.OUTSIDE_SESSIONS]


@pytest.mark.parametrize(
    ("start", "end", "allowed"),
    [
        (date(2025, 1, 1), date(2025, 3, 31), True),
        (date(2025, 3, 5), date(2025, 6, 5), False),
        (date(2024, 12, 1), date(2025, 3, 3), False),
    ],
    ids=["authorised", "not-yet", "expired"],
)
def test_adjoint_outside_authorisation_dates_gets_no_route(start, end, allowed):
    gps = [
        make_gp("T1", RUNGIS, max_visits=0),
        make_adjoint("A1", "T1", authorised_from=start, authorised_until=end),
    ]
    visits = [make_visit("v1", near(CACHAN, 200))]
    instance = make_instance(gps, [rounds("A1"), rounds("T1")], visits)
    plan = solve_rounds(instance, FAST)
    check_rounds(instance, plan, FAST)
    assert (plan.assignment().get("v1") == "A1") is allowed


@pytest.mark.parametrize(
    ("visit", "reason"),
    [
        (make_visit("zh", near(CACHAN, 100), language="zh"), DropReason.LANGUAGE),
        (
            make_visit("eve", near(CACHAN, 100), window=Window(900, 960)),
            DropReason.OUTSIDE_SESSIONS,
        ),
        (make_visit("tight", RUNGIS, promised=Window(600, 601)), DropReason.PROMISE_UNREACHABLE),
    ],
    ids=["language", "outside-sessions", "promise-unreachable"],
)
def test_dropped_visits_are_reported_with_their_reason(visit, reason):
    instance = make_instance([make_gp("T1")], [rounds("T1")], [visit])
    plan = solve_rounds(instance, FAST)
    check_rounds(instance, plan, FAST)
    assert [(d.visit_id, d.reason) for d in plan.dropped] == [(visit.id, reason)]
    assert plan.dropped[0].text


def test_no_practitioner_on_duty_is_a_reason_too():
    instance = make_instance([make_gp("T1")], [tele("T1")], [make_visit("v", CACHAN)])
    plan = solve_rounds(instance, FAST)
    assert [d.reason for d in plan.dropped] == [DropReason.NO_PRACTITIONER_ON_DUTY]


def test_time_is_the_reason_when_the_morning_is_full():
    gp = make_gp("T1")
    visits = [make_visit(f"v{i}", near(CACHAN, 50 * i), service_minutes=60) for i in range(4)]
    instance = make_instance([gp], [rounds("T1")], visits)
    plan = solve_rounds(instance, FAST)
    check_rounds(instance, plan, FAST)
    assert {d.reason for d in plan.dropped} == {DropReason.TIME}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_same_day_visits_are_dropped_last(seed):
    # Room for two visits; the same-day one is the farthest but must stay.
    gp = make_gp("T1", max_visits=2)
    visits = [
        make_visit("urgent", FRESNES, urgency=Urgency.SAME_DAY),
        make_visit("d1", near(CACHAN, 100), urgency=Urgency.WITHIN_24H),
        make_visit("d2", near(CACHAN, -100), urgency=Urgency.WITHIN_48H),
    ]
    instance = make_instance([gp], [rounds("T1")], visits)
    params = replace(FAST, seed=seed)
    plan = solve_rounds(instance, params)
    check_rounds(instance, plan, params)
    assert [d.visit_id for d in plan.dropped] == ["d2"]


def test_continuity_is_soft_preferred_gp_when_possible():
    gps = [make_gp("T1"), make_gp("T2", near(CACHAN, 1500))]
    wants_t2 = make_visit("v", near(CACHAN, 100), preferred_practitioner_id="T2")
    instance = make_instance(gps, [rounds("T1"), rounds("T2")], [wants_t2])
    assert solve_rounds(instance, FAST).assignment() == {"v": "T2"}
    only_t1 = make_instance(gps, [rounds("T1")], [wants_t2])
    plan = solve_rounds(only_t1, FAST)
    assert plan.assignment() == {"v": "T1"}
    assert plan.continuity_missed == ("v",)


def test_promised_window_is_hard_against_travel_savings():
    gp = make_gp("T1")
    visits = [
        make_visit("a", near(CACHAN, 200), promised=Window(690, 750)),
        make_visit("b", near(CACHAN, 250)),
        make_visit("c", RUNGIS),
    ]
    instance = make_instance([gp], [rounds("T1")], visits)
    plan = solve_rounds(instance, FAST)
    check_rounds(instance, plan, FAST)
    assert 690 <= plan.stop("a").arrival <= 750


@pytest.mark.parametrize("seed", [0, 7])
def test_same_seed_same_plan(seed):
    instance = morning(visits=30, gps=11, seed=5)
    # The budget stops the search (~1 s of CPU); the clock is only a cap, raised so that
    # a loaded machine (2 cores, other suites) cannot cut a search or the recombination.
    params = Parameters(time_limit_s=30.0, work_limit=300, seed=seed)
    first, second = solve_rounds(instance, params), solve_rounds(instance, params)
    assert first.search == "ils"
    assert first.stopped_by == second.stopped_by == "work_limit"
    assert [r.visit_ids for r in first.routes] == [r.visit_ids for r in second.routes]
    assert first.objective == second.objective


def test_first_feasible_plan_is_the_insertion_heuristic_alone():
    # The fast path stops at the first solution: no local search after it (its
    # speed is measured in benchmarks/cpts_rounds.py).
    instance = morning(visits=40, gps=11, seed=2)
    plan = solve_rounds(instance, Parameters(), first_solution_only=True)
    check_rounds(instance, plan, Parameters())
    assert plan.solutions == 1
    assert plan.search == "descent"
    improved = solve_rounds(instance, Parameters(work_limit=100))
    assert improved.objective["total"] < plan.objective["total"]


def test_explain_mentions_rounds_and_drops():
    visits = [make_visit("zh", CACHAN, language="zh"), make_visit("ok", near(CACHAN, 100))]
    instance = make_instance([make_gp("T1")], [rounds("T1")], visits)
    text = solve_rounds(instance, FAST).explain()
    assert "T1 : 1 visite," in text and "zh non planifiée" in text


def test_overtime_after_the_session_end_is_a_soft_cost():
    # Two 40-min visits next to T1's practice in a one-hour session: T1 alone drives
    # least but is back ~20 min late (within the 30-min hard allowance); T2 is 2 km away.
    gps = [make_gp("T1"), make_gp("T2", near(CACHAN, -2000))]
    visits = [
        make_visit(f"v{i}", near(CACHAN, 100 * (i + 1)), service_minutes=40) for i in range(2)
    ]
    sessions = [rounds("T1", 600, 660), rounds("T2", 600, 660)]
    instance = make_instance(gps, sessions, visits)

    no_rule = replace(FAST, overtime_cost=0)
    lazy = solve_rounds(instance, no_rule)
    check_rounds(instance, lazy, no_rule)
    assert len(lazy.route_of("T1").stops) == 2  # the scenario bites: least travel = overtime
    assert lazy.route_of("T1").back > 660 + 15

    plan = solve_rounds(instance, FAST)
    check_rounds(instance, plan, FAST)
    late = {r.practitioner_id: max(0, r.back - 660) for r in plan.routes if r.stops}
    assert plan.route_of("T2") is not None and plan.route_of("T2").stops
    assert sum(late.values()) < lazy.route_of("T1").back - 660
    assert plan.travel_minutes > lazy.travel_minutes  # it pays travel to avoid overtime
    assert plan.objective["overtime"] <= sum(late.values()) * 60 * FAST.overtime_cost
    assert plan.check() == []
