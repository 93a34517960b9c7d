"""Live proposals: fast, ranked, and never breaking a promise already made."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from checker import check_rounds
from factories import CACHAN, FAST, RUNGIS, make_gp, make_instance, make_visit, near, rounds, tele

from scheduler import (
    Parameters,
    SessionKind,
    SlotRef,
    TeleconsultationRequest,
    Urgency,
    Window,
    assign_teleconsultations,
    propose,
    solve_rounds,
)
from scheduler.bievre import morning
from scheduler.plan import build_rounds_model, time_route


def with_promises(instance, plan):
    told = {s.visit_id: s.window for r in plan.routes for s in r.stops}
    return replace(
        instance, visits=tuple(replace(v, promised=told.get(v.id)) for v in instance.visits)
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_every_proposal_keeps_every_promise(seed):
    base = morning(visits=30, gps=11, seed=seed)
    plan = solve_rounds(base, FAST)
    instance = with_promises(base, plan)
    new = make_visit("new", near(CACHAN, 700), urgency=Urgency.SAME_DAY)
    options = propose(instance, new, k=5, plan=plan, params=FAST)
    assert options, "no option offered"
    assert len({o.practitioner_id for o in options}) == len(options)
    assert options == sorted(options, key=lambda o: o.added_travel_minutes) or any(
        o.reason == "continuity" for o in options
    )
    for option in options:
        booked = replace(new, promised=option.window)
        day = replace(instance, visits=(*instance.visits, booked))
        model = build_rounds_model(day, FAST)
        v = next(
            i for i, d in enumerate(model.duties) if d.practitioner.id == option.practitioner_id
        )
        index = {x.id: i for i, x in enumerate(model.visits)}
        route = [index[s.visit_id] for s in plan.route_of(option.practitioner_id).stops]
        route.insert(option.position, index["new"])
        assert time_route(model.problem, v, route).feasible
        assert option.window.contains(option.arrival)
    # Booking the best one and re-planning keeps all promises, the new one included.
    best = replace(new, promised=options[0].window)
    day = replace(instance, visits=(*instance.visits, best))
    replanned = solve_rounds(day, FAST, initial=plan)
    check_rounds(day, replanned, FAST)
    kept = {d.visit_id for d in replanned.dropped}
    assert not kept & {v.id for v in day.visits if v.promised}


def test_propose_respects_language_and_prefers_continuity():
    gps = [make_gp("T1"), make_gp("T2", RUNGIS, languages=frozenset({"fr", "pt"})), make_gp("T3")]
    instance = make_instance(gps, [rounds("T1"), rounds("T2"), rounds("T3")])
    pt = make_visit("pt", near(CACHAN, 100), language="pt")
    assert [o.practitioner_id for o in propose(instance, pt, k=3, params=FAST)] == ["T2"]
    loyal = make_visit("loyal", near(CACHAN, 100), preferred_practitioner_id="T3")
    first = propose(instance, loyal, k=3, params=FAST)[0]
    assert (first.practitioner_id, first.reason) == ("T3", "continuity")
    assert first.kind == SessionKind.HOME_VISIT


def test_propose_is_fast_with_sixty_visits_planned():
    instance = morning(visits=60, gps=11, seed=4)
    plan = solve_rounds(instance, Parameters(), first_solution_only=True)
    new = make_visit("new", near(CACHAN, 500))
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        propose(instance, new, k=5, plan=plan)
        timings.append(time.perf_counter() - started)
    assert sorted(timings)[-1] < 0.5  # benchmark target is p95 < 200 ms; slack for CI load


def test_teleconsultation_proposals_skip_booked_slots():
    gps = [make_gp("T1"), make_gp("T2")]
    booked = TeleconsultationRequest("b", booked=SlotRef("T1", 840))
    instance = make_instance(gps, [tele("T1"), tele("T2", 900, 960)], teles=[booked])
    request = TeleconsultationRequest("r", deadline=1000)
    options = propose(instance, request, k=2)
    assert [(o.practitioner_id, o.window) for o in options] == [
        ("T1", Window(855, 870)),
        ("T2", Window(900, 915)),
    ]
    taken = assign_teleconsultations(instance, FAST)
    again = propose(instance, request, k=5, plan=taken)
    assert ("T1", 840) not in {(o.practitioner_id, o.arrival) for o in again}
