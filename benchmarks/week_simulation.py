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
overtime (minutes back after the session end), and the misses by reason
(modality, hour received, urgency, what the triage should have offered).

Then both policies run again on the requests *as the triage answers them*
(``app.requests.triage.offers``, issue 19 item 6): a home visit asked once the
morning round has started is offered a teleconsultation today (then the next
round, said with its reason); a request the platform cannot serve inside the
simulated week ends with an explicit destination (116 117 during PDSA hours)
or *non pourvue*. Reported: the share served within these modality-aware
deadlines among the requests the platform can serve, and every request's
destination. A request no GP on duty can serve before its deadline, whatever the load (no
one speaks the patient's language), ends *non pourvue* with that reason at intake: it is
not a miss of either policy. The week runs at 6 then 9 requests/h (at 6/h both policies
serve every servable request; the higher load is where they part).
Usage: ``python benchmarks/week_simulation.py --seed 1 [--rate 6 --rate 9]``.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

import numpy as np

from app.core.timeutil import PARIS
from app.practitioners.models import SessionKind as AppKind
from app.requests import triage as app_triage
from app.requests.models import Urgency as AppUrgency
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
#: Requests whose teleconsultation today was full and that fell back to the next round.
FALLEN_BACK: set[str] = set()


@dataclass
class Request:
    """A request of the week: when it came, what it needs, its absolute deadline."""

    id: str
    at: int
    home: bool
    visit: Visit
    deadline_day: int
    deadline_minute: int
    # Set by the triage: a home visit whose first offer is a teleconsultation today falls back
    # to this round day (the announced, moved deadline) when no teleconsultation is left.
    fallback_day: int | None = None
    moved: bool = False
    note: str = field(default="", compare=False)


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
    served: set[str] = set()
    optimised: set[int] = set()
    for r in reqs:
        for d in range(DAYS):  # optimise the mornings that start before this request
            if d not in optimised and d * 1440 + HOME_VISITS[0] <= r.at:
                world.plans[d] = solve_rounds(world.days[d], NIGHTLY, initial=world.plans.get(d))
                optimised.add(d)
        if not r.home:
            if world.book_tele(r):
                served.add(r.id)
                continue
            if r.fallback_day is None:
                continue
            r = replace(r, home=True, deadline_day=r.fallback_day, moved=True)
            FALLEN_BACK.add(r.id)
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
        if world.plans[d].stop(r.id) is not None:
            served.add(r.id)
    for d in range(DAYS):
        if d not in optimised:
            world.plans[d] = solve_rounds(world.days[d], NIGHTLY, initial=world.plans.get(d))
    return summarise(world, reqs, served)


def greedy(reqs: list[Request]) -> dict[str, float]:
    """First day with room, nearest GP first, appended at the end of their round."""
    world = World()
    routes: list[dict[str, list[str]]] = [{} for _ in range(DAYS)]
    served: set[str] = set()
    for r in reqs:
        if not r.home:
            if world.book_tele(r):
                served.add(r.id)
                continue
            if r.fallback_day is None:
                continue
            r = replace(r, home=True, deadline_day=r.fallback_day, moved=True)
            FALLEN_BACK.add(r.id)
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
        if placed:
            served.add(r.id)
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


def summarise(world: World, reqs: list[Request], served: set[str]) -> dict[str, float]:
    """Travel and overtime of the final optimised rounds."""
    travel = overtime = 0.0
    for d in range(DAYS):
        plan = world.plans[d]
        travel += plan.travel_minutes
        overtime += sum(max(0, r.back - HOME_VISITS[1]) for r in plan.routes if r.stops)
        served -= {v.visit_id for v in plan.dropped}
    return report(reqs, served, travel, overtime, world)


def report(reqs: list[Request], served: set[str], travel: float, overtime: float, world: World):
    """The figures compared (``served_ids`` kept for the misses, dropped from the JSON)."""
    home = sum(r.home for r in reqs)
    return {
        "requests": len(reqs),
        "home_visits": home,
        "served_within_deadline": len(served),
        "share_within_deadline": round(len(served) / len(reqs), 4) if reqs else None,
        "travel_minutes": round(travel, 1),
        "overtime_minutes": round(overtime, 1),
        "served_ids": served,
    }


# --- The triage's modality-aware offers (issue 19 item 6) --------------------------------


def moment(minute: int) -> datetime:
    """A week minute as the Paris datetime the app's triage reads."""
    day, rest = divmod(minute, 1440)
    return datetime.combine(MONDAY + timedelta(days=day), time(rest // 60, rest % 60), PARIS)


def day_index(when: datetime) -> int:
    return (when.astimezone(PARIS).date() - MONDAY).days


def offers_for(r: Request) -> tuple[app_triage.Offer, ...]:
    """What the app's triage offers for this request (same deadline rules as the app)."""
    received = moment(r.at)
    urgency = AppUrgency(str(r.visit.urgency))
    deadline = app_triage.deadline_for(urgency, received)
    modality = AppKind.home_visit if r.home else AppKind.teleconsultation
    return app_triage.offers(modality=modality, received_at=received, deadline=deadline)


def hour_bucket(r: Request) -> str:
    hour = (r.at % 1440) // 60
    return "avant 10 h" if hour < 10 else ("10–14 h" if hour < 14 else "après 14 h")


def first_offer(r: Request) -> str:
    o = offers_for(r)[0]
    return f"{o.kind}{'' if o.within_deadline else ' (après l’échéance)'}"


def misses_by_reason(reqs: list[Request], served: set[str]) -> dict[str, int]:
    """Unserved requests by modality, hour received, urgency and the triage's first offer."""
    out: Counter[str] = Counter()
    for r in reqs:
        if r.id not in served:
            modality = "visite" if r.home else "téléconsultation"
            key = f"{modality} | {hour_bucket(r)} | {r.visit.urgency} | offre : {first_offer(r)}"
            out[key] += 1
    return dict(out.most_common())


def nobody_eligible(r: Request) -> str | None:
    """Why no GP on duty can ever serve this request before its (triaged) deadline, if so.

    Capacity aside (an empty week): a GP with a session of the modality who speaks the
    patient's language, on a day up to the deadline (for a visit offered a teleconsultation
    first, also the rounds up to its fallback day). The proposals (``propose``) then find
    nothing whatever the policy: the request ends *non pourvue* with this reason, said to
    the caller at once, never a silent miss counted against the policies.
    """

    def someone(kind: SessionKind, first: int, last: int) -> bool:
        for d in range(first, min(DAYS - 1, last) + 1):
            gps, sessions = roster(d)
            on = {s.practitioner_id for s in sessions if s.kind == kind}
            if any(p.id in on and p.speaks(r.visit.language) for p in gps):
                return True
        return False

    today = r.at // 1440
    kind = SessionKind.HOME_VISIT if r.home else SessionKind.TELECONSULTATION
    if someone(kind, today, r.deadline_day):
        return None
    if r.fallback_day is not None and someone(SessionKind.HOME_VISIT, today, r.fallback_day):
        return None
    return (
        f"non pourvue : aucun médecin de garde ne parle « {r.visit.language} » d'ici "
        "l'échéance (interprétariat, ou 116 117 / 15 en cas d'aggravation)"
    )


def as_triaged(reqs: list[Request]) -> tuple[list[Request], dict[str, str]]:
    """The requests the platform can serve, as the triage answers them, and the others'
    explicit destination (116 117 in PDSA hours, non pourvue with its reason)."""
    servable: list[Request] = []
    elsewhere: dict[str, str] = {}
    for r in reqs:
        found = offers_for(r)
        platform = [o for o in found if o.modality is not None and day_index(o.by) < DAYS]
        if not platform:
            later = next((o for o in found if o.modality is not None), None)
            other = next((o for o in found if o.destination is not None), None)
            if later is not None and later.within_deadline:
                # Served on Monday's round, within its deadline, after the simulated week.
                elsewhere[r.id] = "plateforme, tournée du lundi suivant (hors semaine simulée)"
            else:
                elsewhere[r.id] = str(other.destination) if other else "non pourvue"
            continue
        first = platform[0]
        # Within the deadline: any day up to it; past it: the announced day of the offer.
        deadline = app_triage.deadline_for(AppUrgency(str(r.visit.urgency)), moment(r.at))
        day = day_index(deadline) if first.within_deadline else day_index(first.by)
        rounds = [o for o in platform[1:] if o.modality == AppKind.home_visit]
        if first.modality == AppKind.teleconsultation:
            fallback = day_index(rounds[0].by) if rounds else None
            triaged = replace(
                r, home=False, deadline_day=day, fallback_day=fallback, note=first.note
            )
        else:
            triaged = replace(r, home=True, deadline_day=day, moved=not first.within_deadline)
        reason = nobody_eligible(triaged)
        if reason is not None:
            elsewhere[r.id] = reason
            continue
        servable.append(triaged)
    return servable, elsewhere


def destinations(
    reqs: list[Request], triaged: list[Request], elsewhere: dict[str, str], served: set[str]
) -> dict[str, int]:
    """Where every request of the week ended under the triage."""
    out: Counter[str] = Counter(elsewhere.values())
    for r in triaged:
        if r.id in served:
            out["plateforme, dans l'échéance annoncée"] += 1
        else:
            out["non pourvue (aucun créneau dans l'échéance : dit à l'appelant)"] += 1
    assert sum(out.values()) == len(reqs)
    return dict(out)


def simulate(seed: int, rate: float, overtime_cost: int) -> dict[str, object]:
    """One week at one arrival rate under both policies, printed as it goes."""
    reqs = requests(seed, rate)
    result: dict[str, object] = {
        "seed": seed,
        "rate_per_hour": rate,
        "overtime_cost": overtime_cost,
    }
    print(f"=== semaine, graine {seed}, {rate:g} demandes/h ===", flush=True)
    for name, policy in (("greedy", greedy), ("ours", ours)):
        figures = policy(reqs)
        served = figures.pop("served_ids")
        figures["misses_by_reason"] = misses_by_reason(reqs, served)
        result[name] = figures
        print(name, {k: v for k, v in figures.items() if k != "misses_by_reason"}, flush=True)
        for reason, count in figures["misses_by_reason"].items():
            print(f"    manqué {count:3d} × {reason}")
    triaged, elsewhere = as_triaged(reqs)
    asked_home = {r.id for r in reqs if r.home}
    print(
        f"triage: {len(triaged)} servables par la plateforme dans la semaine, "
        f"{sum(not r.home and r.id in asked_home for r in triaged)} visites demandées "
        f"après le début de la tournée → téléconsultation le jour même, "
        f"{sum(r.moved for r in triaged)} → prochaine tournée (échéance déplacée et dite), "
        f"{len(elsewhere)} hors de la semaine simulée, orientées ou non pourvues d'emblée",
        flush=True,
    )
    for name, policy in (("greedy", greedy), ("ours", ours)):
        FALLEN_BACK.clear()
        figures = policy(triaged)
        served = figures.pop("served_ids")
        figures["teleconsultation_instead_of_visit"] = sum(
            1
            for r in triaged
            if r.id in served and r.id in asked_home and not r.home and r.id not in FALLEN_BACK
        )
        figures["served_at_next_round_deadline_moved"] = sum(
            1 for r in triaged if r.id in served and (r.moved or r.id in FALLEN_BACK)
        )
        figures["misses_by_reason"] = misses_by_reason(triaged, served)
        figures["by_destination"] = destinations(reqs, triaged, elsewhere, served)
        result[f"{name}_modality_aware"] = figures
        print(
            f"{name} (échéances selon la modalité)",
            {k: v for k, v in figures.items() if k not in ("misses_by_reason",)},
            flush=True,
        )
        for reason, count in figures["misses_by_reason"].items():
            print(f"    manqué {count:3d} × {reason}")
    return result


def main() -> None:
    """Simulate the week under both policies at each rate and print the comparison."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--rate",
        type=float,
        action="append",
        help="requests per opening hour (repeatable; default: 6 then 9, the higher load "
        "where the policies part)",
    )
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
    results = [simulate(args.seed, rate, args.overtime_cost) for rate in args.rate or [6.0, 9.0]]
    print("=== servies dans l'échéance (selon la modalité), parmi les demandes servables ===")
    for result in results:
        line = []
        for name in ("greedy", "ours"):
            figures = result[f"{name}_modality_aware"]
            assert isinstance(figures, dict)
            line.append(
                f"{name} {figures['served_within_deadline']}/{figures['requests']} "
                f"({figures['share_within_deadline']:.1%}), trajet {figures['travel_minutes']} min"
            )
        print(f"{result['rate_per_hour']:g}/h : " + " ; ".join(line))
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
