"""Re-planning keeps promised windows, or names the patients to call back."""

from __future__ import annotations

from dataclasses import replace

import pytest
from checker import check_rounds
from factories import CACHAN, FAST, RUNGIS, make_gp, make_instance, make_visit, near, rounds

from scheduler import Urgency, Window, replan, solve_rounds
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
    cancelled = [plan.routes[0].stops[0].visit_id] if event in ("cancel", "both") else []
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
