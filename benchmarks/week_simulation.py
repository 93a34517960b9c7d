"""A week of requests on the Bièvre: our policy vs a greedy baseline.

Requests arrive hour by hour (Poisson, seeded) during the secretariat's
opening hours, Mon–Sat; 40 % need a home visit, the rest a teleconsultation.

* **ours**: ``propose()`` on every day that meets the deadline, book the best
  option (its window becomes a hard promise), re-plan the day from the
  current plan, and optimise every morning's rounds before they start;
* **greedy**: the first free slot, nearest GP first — a home visit is
  appended to the nearest GP's round on the first day where it still fits.

Both see the same requests and the same rules (promises, capacity, language,
adjoints). Reported: share served within deadline, travel minutes, GP
overtime (minutes back after the session end). Usage:
``python benchmarks/week_simulation.py --seed 1 --rate 6``.
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np

from scheduler import (
    Instance,
    Parameters,
    Session,
    SessionKind,
    SlotRef,
    TeleconsultationRequest,
    Urgency,
    Visit,
    Window,
    propose,
    solve_rounds,
)
from scheduler.bievre import HOME_VISITS, TELECONSULTATIONS, random_visit, team
from scheduler.plan import build_rounds_model, time_route

MONDAY = date(2025, 3, 3)
DAYS = 6
HOURS = {d: range(8, 20) for d in range(5)} | {5: range(8, 12)}
DEADLINE = {Urgency.SAME_DAY: 0, Urgency.WITHIN_24H: 1, Urgency.WITHIN_48H: 2}
QUICK = Parameters(time_limit_s=1.0, work_limit=60, seed=1)
NIGHTLY = Parameters(time_limit_s=2.0, seed=1)


@dataclass
class Request:
    """A request of the week: when it came, what it needs, its absolute deadline."""

    id: str
    at: int
    home: bool
    visit: Visit
    deadline_day: int
    deadline_minute: int


def roster(day: int) -> tuple:
    """Four titulars a day (rotating) with their adjoints, both modalities."""
    everyone = team(MONDAY + timedelta(days=day))
    titulars = [p for p in everyone if p.status == "titular"]
    on = {titulars[(day + i) % len(titulars)].id for i in range(4)}
    gps = tuple(p for p in everyone if p.id in on or p.titular_id in on)
    sessions = tuple(
        s
        for p in gps
        for s in (
            Session(p.id, SessionKind.HOME_VISIT, *HOME_VISITS),
            Session(p.id, SessionKind.TELECONSULTATION, *TELECONSULTATIONS),
        )
    )
    return gps, sessions


def requests(seed: int, rate: float) -> list[Request]:
    """Poisson arrivals per opening hour; deadlines by urgency (end of the due day)."""
    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    out = []
    ids = [p.id for p in team(MONDAY)]
    for day in range(DAYS):
        for hour in HOURS[day]:
            for _ in range(int(nprng.poisson(rate))):
                at = day * 1440 + hour * 60 + rng.randrange(60)
                visit = random_visit(rng, f"R{len(out):04d}", ids)
                visit = replace(visit, promised=None, deadline=None, window=None)
                due = day + DEADLINE[visit.urgency]
                out.append(Request(visit.id, at, rng.random() < 0.4, visit, due, 20 * 60))
    return sorted(out, key=lambda r: r.at)


class World:
    """Per-day instances with what each policy booked so far."""

    def __init__(self) -> None:
        self.days = []
        for d in range(DAYS):
            gps, sessions = roster(d)
            self.days.append(Instance(MONDAY + timedelta(days=d), gps, sessions))
        self.plans: dict[int, object] = {}
        self.served_in_time = 0

    def home_days(self, r: Request) -> list[int]:
        """Days whose morning has not started when the request arrives, up to its deadline."""
        first = r.at // 1440 + (1 if r.at % 1440 >= HOME_VISITS[0] else 0)
        return [d for d in range(first, min(DAYS - 1, r.deadline_day) + 1)]

    def book_tele(self, r: Request) -> bool:
        """First free eligible slot (both policies: teleconsultation is not the contest)."""
        for d in range(r.at // 1440, min(DAYS - 1, r.deadline_day) + 1):
            inst = self.days[d]
            earliest = max(TELECONSULTATIONS[0], r.at - d * 1440) if d == r.at // 1440 else 0
            req = TeleconsultationRequest(
                r.id, r.visit.urgency, earliest, language=r.visit.language
            )
            options = propose(inst, req, k=1)
            if options:
                slot = SlotRef(options[0].practitioner_id, options[0].arrival)
                kept = TeleconsultationRequest(r.id, booked=slot)
                self.days[d] = replace(inst, teleconsultations=(*inst.teleconsultations, kept))
                return True
        return False


def visit_for(r: Request, d: int) -> Visit:
    """The request as a visit of day ``d`` (deadline only on its last day)."""
    return replace(r.visit, deadline=r.deadline_minute if d == r.deadline_day else None)


def ours(reqs: list[Request]) -> dict[str, float]:
    """Propose on each feasible day, book the least detour, re-plan; optimise each morning."""
    world = World()
    served = 0
    optimised: set[int] = set()
    for r in reqs:
        for d in range(DAYS):  # optimise the mornings that start before this request
            if d not in optimised and d * 1440 + HOME_VISITS[0] <= r.at:
                world.plans[d] = solve_rounds(world.days[d], NIGHTLY, initial=world.plans.get(d))
                optimised.add(d)
        if not r.home:
            served += world.book_tele(r)
            continue
        best = None
        for d in world.home_days(r):
            v = visit_for(r, d)
            plan = world.plans.get(d) or solve_rounds(world.days[d], QUICK)
            options = propose(world.days[d], v, k=1, plan=plan)
            if options and (best is None or options[0].added_travel_minutes < best[1]):
                best = (d, options[0].added_travel_minutes, options[0])
            if options and r.visit.urgency == Urgency.SAME_DAY:
                break  # the earliest possible day first for the most urgent
        if best is None:
            continue
        d, _added, option = best
        booked = replace(visit_for(r, d), promised=option.window)
        world.days[d] = replace(world.days[d], visits=(*world.days[d].visits, booked))
        world.plans[d] = solve_rounds(world.days[d], QUICK, initial=world.plans.get(d))
        served += world.plans[d].stop(r.id) is not None
    for d in range(DAYS):
        if d not in optimised:
            world.plans[d] = solve_rounds(world.days[d], NIGHTLY, initial=world.plans.get(d))
    return summarise(world, reqs, served)


def greedy(reqs: list[Request]) -> dict[str, float]:
    """First day with room, nearest GP first, appended at the end of their round."""
    world = World()
    routes: list[dict[str, list[str]]] = [{} for _ in range(DAYS)]
    served = 0
    for r in reqs:
        if not r.home:
            served += world.book_tele(r)
            continue
        placed = False
        for d in world.home_days(r):
            day = replace(world.days[d], visits=(*world.days[d].visits, visit_for(r, d)))
            model = build_rounds_model(day, QUICK)
            index = {v.id: i for i, v in enumerate(model.visits)}
            new = index[r.id]
            order = np.argsort(model.travel[: len(model.duties), model.visit_point(new)])
            for veh in order:
                pid = model.duties[int(veh)].practitioner.id
                allowed = model.problem.customers[new].allowed_vehicles
                if allowed is not None and int(veh) not in allowed:
                    continue
                route = [index[v] for v in routes[d].get(pid, [])] + [new]
                timing = time_route(model.problem, int(veh), route)
                if timing.feasible:
                    start = timing.arrivals[-1] // 60
                    promised = Window(max(600, start - 30), max(600, start - 30) + 60)
                    booked = replace(visit_for(r, d), promised=promised)
                    world.days[d] = replace(world.days[d], visits=(*world.days[d].visits, booked))
                    routes[d].setdefault(pid, []).append(r.id)
                    placed = True
                    break
            if placed:
                break
        served += placed
    travel = overtime = 0.0
    for d in range(DAYS):
        model = build_rounds_model(world.days[d], QUICK)
        index = {v.id: i for i, v in enumerate(model.visits)}
        for veh, duty in enumerate(model.duties):
            mine = [index[v] for v in routes[d].get(duty.practitioner.id, [])]
            timing = time_route(model.problem, veh, mine)
            travel += timing.travel / 60
            overtime += max(0, timing.back / 60 - HOME_VISITS[1])
    return report(reqs, served, travel, overtime, world)


def summarise(world: World, reqs: list[Request], served: int) -> dict[str, float]:
    """Travel and overtime of the final optimised rounds."""
    travel = overtime = 0.0
    lost = 0
    for d in range(DAYS):
        plan = world.plans[d]
        travel += plan.travel_minutes
        overtime += sum(max(0, r.back - HOME_VISITS[1]) for r in plan.routes if r.stops)
        lost += len(plan.dropped)
    return report(reqs, served - lost, travel, overtime, world)


def report(reqs: list[Request], served: int, travel: float, overtime: float, world: World):
    """The figures compared."""
    home = sum(r.home for r in reqs)
    return {
        "requests": len(reqs),
        "home_visits": home,
        "served_within_deadline": served,
        "share_within_deadline": round(served / len(reqs), 4),
        "travel_minutes": round(travel, 1),
        "overtime_minutes": round(overtime, 1),
    }


def main() -> None:
    """Simulate the week under both policies and print the comparison."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rate", type=float, default=6.0, help="requests per opening hour")
    ap.add_argument(
        "--overtime-cost",
        type=int,
        default=Parameters().overtime_cost,
        help="our soft cost per second back after the session end (0 = off)",
    )
    args = ap.parse_args()
    global QUICK, NIGHTLY
    QUICK = replace(QUICK, overtime_cost=args.overtime_cost)
    NIGHTLY = replace(NIGHTLY, overtime_cost=args.overtime_cost)
    reqs = requests(args.seed, args.rate)
    result = {"seed": args.seed, "rate_per_hour": args.rate, "overtime_cost": args.overtime_cost}
    result["greedy"] = greedy(reqs)
    print("greedy", result["greedy"], flush=True)
    result["ours"] = ours(reqs)
    print("ours  ", result["ours"], flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
