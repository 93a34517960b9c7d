"""Re-planning keeps promised windows, or names the patients to call back."""

from __future__ import annotations

from dataclasses import replace

import pytest
from checker import check_rounds
from factories import CACHAN, FAST, RUNGIS, make_gp, make_instance, make_visit, near, rounds

from scheduler import Urgency, Window, plan_from_orders, replan, solve_rounds
from scheduler.bievre import morning


def promise_everything(instance, plan):
    """Turn each planned stop's narrowed window into a promise, as the app does after SMS."""
    told = {s.visit_id: s.window for r in plan.routes for s in r.stops}
    return replace(
        instance, visits=tuple(replace(v, promised=told.get(v.id)) for v in instance.visits)
    )


@pytest.mark.parametrize("event", ["cancel", "urgent", "both"])
def test_promises_are_kept_on_replan(event):
    base = morning(visits=25, gps=11, seed=11)
    base = replace(base, visits=tuple(replace(v, promised=None) for v in base.visits))
    plan = solve_rounds(base, FAST)
    promised = promise_everything(base, plan)
    first = next(r for r in plan.routes if r.stops).stops[0].visit_id
    cancelled = [first] if event in ("cancel", "both") else []
    added = (
        [make_visit("late", near(CACHAN, 400), urgency=Urgency.SAME_DAY)]
        if event in ("urgent", "both")
        else []
    )
    result = replan(promised, FAST, previous=plan, cancelled=cancelled, added=added)
    check_rounds(result.instance, result.plan, FAST)  # checks every promise as hard
    assert result.renegotiate == ()
    for v in result.instance.visits:
        if v.promised is not None:
            stop = result.plan.stop(v.id)
            assert stop is not None, f"{v.id} lost its promised visit"
            assert v.promised.contains(stop.arrival)
    if added:
        assert result.plan.stop("late") is not None


def test_gp_delay_lists_the_patients_whose_window_must_be_renegotiated():
    gp = make_gp("T1")
    visits = [
        make_visit("early", near(CACHAN, 300), promised=Window(600, 660)),
        make_visit("later", near(CACHAN, 600), promised=Window(700, 770)),
    ]
    instance = make_instance([gp], [rounds("T1")], visits)
    plan = solve_rounds(instance, FAST)
    assert not plan.dropped
    result = replan(instance, FAST, previous=plan, delays={"T1": 75})
    assert result.renegotiate == ("early",)
    check_rounds(result.instance, result.plan, FAST)
    assert result.plan.stop("early") is not None  # still seen, at a new window
    assert Window(700, 770).contains(result.plan.stop("later").arrival)


def test_a_late_urgent_request_does_not_break_promises_it_cannot_fit_with():
    gp = make_gp("T1", max_visits=2)
    visits = [
        make_visit("p1", near(CACHAN, 200), promised=Window(620, 680)),
        make_visit("p2", near(CACHAN, 400), promised=Window(700, 760)),
    ]
    instance = make_instance([gp], [rounds("T1")], visits)
    plan = solve_rounds(instance, FAST)
    urgent = make_visit("urgent", RUNGIS, urgency=Urgency.SAME_DAY)
    result = replan(instance, FAST, previous=plan, added=[urgent])
    assert result.renegotiate == ()
    assert [d.visit_id for d in result.plan.dropped] == ["urgent"]
    check_rounds(result.instance, result.plan, FAST)


def test_assigned_visit_stays_with_its_gp():
    """A booked visit is pinned: the nearer GP never takes it over."""
    gps = [make_gp("A", CACHAN), make_gp("B", RUNGIS)]
    visit = make_visit("v1", near(RUNGIS, 100), assigned_practitioner_id="A")
    instance = make_instance(gps, [rounds("A"), rounds("B")], [visit])
    plan = solve_rounds(instance, FAST)
    assert plan.assignment() == {"v1": "A"}
    free = solve_rounds(replace(instance, visits=(replace(visit, assigned_practitioner_id=None),)))
    assert free.assignment() == {"v1": "B"}


def test_plan_from_orders_retimes_and_refuses_a_broken_order():
    gps = [make_gp("A", CACHAN)]
    v1 = make_visit("v1", near(CACHAN, 500), promised=Window(600, 660))
    v2 = make_visit("v2", near(CACHAN, -500), promised=Window(720, 780))
    instance = make_instance(gps, [rounds("A")], [v1, v2])
    plan = plan_from_orders(instance, {"A": ["v1", "v2"]}, FAST)
    assert plan is not None and plan.route_of("A").visit_ids == ("v1", "v2")
    assert 600 <= plan.stop("v1").arrival <= 660
    assert plan_from_orders(instance, {"A": ["v2", "v1"]}, FAST) is None
    partial = plan_from_orders(instance, {"A": ["v2"]}, FAST)
    assert partial is not None and [d.visit_id for d in partial.dropped] == ["v1"]
