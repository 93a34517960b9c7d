"""Independent feasibility checker for plans: recomputes travel and timing itself.

It never trusts the solver's numbers: distances are recomputed here with its
own haversine formula, the adjoint and language rules are re-implemented, and
every arrival is re-derived from the previous stop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scheduler import Instance, Parameters, RoundsResult, SessionKind, Status

TOL = 1.0  # minutes: the solver works in whole seconds and reports whole minutes


def travel_minutes(a: tuple[float, float], b: tuple[float, float], params: Parameters) -> float:
    """Haversine km × circuity at the urban speed, in minutes (own implementation)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    km = 2 * 6371.0088 * math.asin(math.sqrt(h))
    return km * params.circuity / params.speed_kmh * 60


def duty_span(instance: Instance, pid: str) -> tuple[int, int] | None:
    """When a GP may do home visits, re-deriving the titular/adjoint rule."""
    p = instance.practitioner(pid)
    own = [s for s in instance.sessions if s.practitioner_id == pid and s.kind == "home_visit"]
    if not own:
        return None
    start, end = min(s.start for s in own), max(s.end for s in own)
    if p.status == Status.ADJOINT:
        if p.authorised_from and instance.day < p.authorised_from:
            return None
        if p.authorised_until and instance.day > p.authorised_until:
            return None
        tit = [s for s in instance.sessions if s.practitioner_id == p.titular_id]
        overlaps = [(max(start, s.start), min(end, s.end)) for s in tit]
        overlaps = [o for o in overlaps if o[1] > o[0]]
        if not overlaps:
            return None
        start, end = max(overlaps, key=lambda o: o[1] - o[0])
    return start, end


@dataclass
class Checked:
    """What the checker recomputed."""

    travel_minutes: float
    served: int


def check_rounds(instance: Instance, plan: RoundsResult, params: Parameters) -> Checked:
    """Assert every hard rule of the rounds; return the recomputed travel."""
    visits = {v.id: v for v in instance.visits}
    seen: list[str] = []
    total = 0.0
    for route in plan.routes:
        if not route.stops:
            continue
        p = instance.practitioner(route.practitioner_id)
        span = duty_span(instance, p.id)
        assert span is not None, f"{p.id} has a round but may not work"
        assert len(route.stops) <= p.max_visits, f"{p.id} over capacity"
        home = (p.lat, p.lon)
        at, t = home, float(route.depart)
        assert route.depart >= span[0] - TOL, f"{p.id} leaves before the session"
        route_travel = 0.0
        for stop in route.stops:
            v = visits[stop.visit_id]
            leg = travel_minutes(at, (v.lat, v.lon), params)
            route_travel += leg
            assert stop.arrival >= t + leg - TOL, f"{v.id}: arrives before it can"
            lo, hi = span[0], span[1]
            for w in (v.window, v.promised):
                if w is not None:
                    lo, hi = max(lo, w.start), min(hi, w.end)
            if v.deadline is not None:
                hi = min(hi, v.deadline)
            assert lo <= stop.arrival <= hi, f"{v.id}: arrival {stop.arrival} not in [{lo},{hi}]"
            assert stop.window.start <= stop.arrival <= stop.window.end, f"{v.id}: window"
            assert stop.window.end - stop.window.start <= params.window_width
            if hi - lo >= params.window_width:
                assert lo <= stop.window.start and stop.window.end <= hi, f"{v.id}: told window"
            assert p.speaks(v.language), f"{v.id}: {p.id} does not speak {v.language}"
            t = max(float(stop.arrival), t + leg) + v.service_minutes
            at = (v.lat, v.lon)
            seen.append(v.id)
        back = travel_minutes(at, home, params)
        route_travel += back
        assert route.back >= t + back - TOL, f"{p.id}: back too early"
        assert t + back <= span[1] + params.return_allowance + TOL, f"{p.id}: back too late"
        assert abs(route_travel - route.travel_minutes) <= TOL, f"{p.id}: travel misreported"
        total += route_travel
    dropped = [d.visit_id for d in plan.dropped]
    assert len(seen) == len(set(seen)), "a visit is served twice"
    assert not set(seen) & set(dropped), "a visit is both served and dropped"
    assert set(seen) | set(dropped) == set(visits), "a visit was silently lost"
    for d in plan.dropped:
        assert d.reason, f"{d.visit_id} dropped without a reason"
    assert abs(total - plan.travel_minutes) <= TOL * max(1, len(plan.routes))
    return Checked(total, len(seen))


def check_solomon(inst, routes) -> float:  # noqa: ANN001 - test helper
    """Recompute a Solomon plan (DIMACS units) and assert its feasibility; return distance."""

    def d(a: int, b: int) -> int:
        return int(math.floor(math.dist(inst.xy[a], inst.xy[b]) * 10))

    served = [c for r in routes for c in r]
    assert sorted(served) == list(range(1, len(inst.xy))), "customers missing or repeated"
    assert len(routes) <= inst.num_vehicles
    total = 0
    for r in routes:
        assert sum(inst.demand[c] for c in r) <= inst.capacity
        t, at = inst.ready[0] * 10, 0
        for c in r:
            total += d(at, c)
            t = max(t + d(at, c), inst.ready[c] * 10)
            assert t <= inst.due[c] * 10, f"customer {c} served late"
            t += inst.service[c] * 10
            at = c
        total += d(at, 0)
        assert t + d(at, 0) <= inst.due[0] * 10, "back at the depot too late"
    return total / 10


def check_session_use(instance: Instance, pid: str) -> bool:
    """Whether the practitioner holds a home-visit session at all (for readability)."""
    return any(
        s.practitioner_id == pid and s.kind == SessionKind.HOME_VISIT for s in instance.sessions
    )
