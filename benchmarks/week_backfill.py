"""A week of requests with cancellations: freed slots lost vs offered back (issue 23).

The week of ``benchmarks/week_simulation.py`` (same seeded arrivals, deadlines,
modalities and rotating roster of the seed's team), at the slot level: each GP on
duty has 15-minute teleconsultation slots 14:00–20:00 and ``max_visits`` places in
the 10:00–13:00 round (60-minute arrival windows; travel is not modelled here — the
app checks each offer with the rounds' exact insertion, ``rounds.proposals``).

A request books the earliest free slot of its modality that starts at least 10 min
ahead and no later than its deadline. A booking is cancelled with the seeded rate
(10 %), at a uniform moment before its start; a share of cancellations comes by SMS
(freed at once, night or day), the others by phone (freed when the secretariat is
open). A freed slot goes back to the free pool in both policies (a new caller may
book it). Then:

* **no backfill**: a request with no slot is *non pourvue* (today's behaviour);
* **backfill**: it waits on the list until its deadline (with SMS consent 70 %, call
  only 20 %, neither 10 %: not listed). A freed slot is offered by SMS to the best
  ranked waiting request that fits (deadline, urgency, arrival), held 15 min: OUI
  55 % (answer after ~4 min), NON 15 %, silence otherwise → the next one; a late OUI
  on a taken slot is told so. In opening hours the secretariat calls the patients
  without SMS consent (4 min a call, reached 60 %, yes 80 %).

Reported per policy: requests served within their deadline (among those not
cancelled by the patient), *non pourvues*, freed slots, refilled before their start
(by anybody), wasted, median delay release → refill, and SMS sent per refill.
Usage: ``python benchmarks/week_backfill.py --seed 1 --rate 18`` (a few seconds).
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import random
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.week_simulation import DAYS, HOURS, Request, requests, roster  # noqa: E402
from scheduler import Urgency  # noqa: E402
from scheduler.bievre import HOME_VISITS, TELECONSULTATIONS  # noqa: E402

LEAD = 10  # minutes: nobody is offered or booked a slot starting sooner
HOLD = 15  # WAITLIST_OFFER_HOLD_MINUTES
P_YES, P_NO, REPLY_MEAN = 0.55, 0.15, 4.0
CALL_MINUTES, P_REACHED, P_CALL_YES = 4, 0.6, 0.8
CONSENT = (("sms", 0.7), ("call", 0.2), ("none", 0.1))
URGENCY_RANK = {Urgency.SAME_DAY: 0, Urgency.WITHIN_24H: 1, Urgency.WITHIN_48H: 2}


@dataclass
class Slot:
    id: int
    home: bool
    gp: str
    start: int
    holder: str | None = None
    freed_at: list[int] = field(default_factory=list)
    refilled_at: list[int] = field(default_factory=list)


def slots() -> list[Slot]:
    out: list[Slot] = []
    ids = itertools.count()
    for d in range(DAYS):
        gps, _sessions = roster(d)
        for gp in gps:
            first, last = TELECONSULTATIONS
            for m in range(first, last, gp.slot_minutes):
                out.append(Slot(next(ids), False, gp.id, d * 1440 + m))
            first, last = HOME_VISITS
            n = max(1, gp.max_visits)
            for i in range(n):
                start = first + (i * (last - 60 - first)) // max(1, n - 1)
                out.append(Slot(next(ids), True, gp.id, d * 1440 + start))
    return sorted(out, key=lambda s: (s.start, s.id))


def is_open(minute: int) -> bool:
    day, hour = divmod(minute // 60, 24)
    return day < DAYS and hour in HOURS.get(day, ())


def next_open(minute: int) -> int:
    m = minute
    while not is_open(m) and m < DAYS * 1440:
        m = (m // 60 + 1) * 60
    return m


def deadline(r: Request) -> int:
    return r.deadline_day * 1440 + r.deadline_minute


@dataclass
class Outcome:
    requests: int = 0
    cancelled_by_patient: int = 0
    served: int = 0
    unfilled: int = 0
    freed: int = 0
    refilled: int = 0
    refilled_by_list: int = 0
    wasted: int = 0
    sms: int = 0
    delays: list[int] = field(default_factory=list)

    def summary(self) -> dict[str, float | int | None]:
        need = self.requests - self.cancelled_by_patient
        return {
            "requests": self.requests,
            "cancelled_by_patient": self.cancelled_by_patient,
            "served_within_deadline": self.served,
            "share_served": round(self.served / need, 4) if need else None,
            "non_pourvues": self.unfilled,
            "freed_slots": self.freed,
            "refilled_before_start": self.refilled,
            "share_refilled": round(self.refilled / self.freed, 4) if self.freed else None,
            "refilled_from_waiting_list": self.refilled_by_list,
            "slots_wasted": self.wasted,
            "median_release_to_refill_min": statistics.median(self.delays) if self.delays else None,
            "sms_sent": self.sms,
            "sms_per_refill": round(self.sms / self.refilled_by_list, 2)
            if self.refilled_by_list
            else None,
        }


def simulate(seed: int, rate: float, cancel_rate: float, sms_share: float, backfill: bool):
    # Patients' answers; arrivals are week_simulation's, and each request's consent and
    # cancellation are drawn from its own generator, so both policies see the same ones.
    rng = random.Random(seed * 7919 + 1)
    own = {r.id: random.Random(f"{seed}:{r.id}") for r in requests(seed, rate)}
    reqs = requests(seed, rate)
    pool = slots()
    out = Outcome(requests=len(reqs))
    booked: dict[str, Slot] = {}
    waiting: dict[str, Request] = {}
    consent: dict[str, str] = {}
    offered: dict[int, set[str]] = {}
    served: set[str] = set()
    gone: set[str] = set()  # cancelled by the patient: the need is gone
    events: list[tuple[int, int, str, tuple]] = []
    order = itertools.count()

    def push(at: int, kind: str, *payload) -> None:
        heapq.heappush(events, (at, next(order), kind, payload))

    def free_slot(r: Request, now: int) -> Slot | None:
        for s in pool:
            if s.home == r.home and s.holder is None and now + LEAD <= s.start <= deadline(r):
                return s
        return None

    def book(r: Request, s: Slot, now: int, from_list: bool) -> None:
        s.holder = r.id
        booked[r.id] = s
        served.add(r.id)
        waiting.pop(r.id, None)
        if s.freed_at and len(s.refilled_at) < len(s.freed_at):
            s.refilled_at.append(now)
            out.refilled += 1
            out.delays.append(now - s.freed_at[-1])
            if from_list:
                out.refilled_by_list += 1
        mine = own[r.id]
        cancels, moment, by_sms = mine.random(), mine.random(), mine.random()
        if cancels < cancel_rate and s.start - now > LEAD:
            push(now + int(moment * (s.start - 5 - now)), "cancel", r.id, by_sms < sms_share)

    def fits(r: Request, s: Slot, now: int) -> bool:
        return r.home == s.home and deadline(r) >= s.start and now + LEAD <= s.start

    def ranked(s: Slot, now: int, channel: str) -> list[Request]:
        seen = offered.setdefault(s.id, set())
        found = [
            r
            for r in waiting.values()
            if consent[r.id] == channel and r.id not in seen and fits(r, s, now)
        ]
        return sorted(found, key=lambda r: (deadline(r), URGENCY_RANK[r.visit.urgency], r.at))

    def offer_sms(s: Slot, now: int) -> None:
        if s.holder is not None or s.start - LEAD <= now:
            return
        chain = ranked(s, now, "sms")
        if not chain:
            return
        r = chain[0]
        offered[s.id].add(r.id)
        out.sms += 1
        expires = min(now + HOLD, s.start - LEAD)
        draw = rng.random()
        delay = max(1, round(rng.expovariate(1 / REPLY_MEAN)))
        if draw < P_YES:
            push(now + delay, "oui", s.id, r.id, expires)
        elif draw < P_YES + P_NO:
            push(min(now + delay, expires), "next_sms", s.id)
            return
        push(expires, "next_sms", s.id)

    def call(s: Slot, now: int) -> None:
        if s.holder is not None or s.start - LEAD <= now:
            return
        if not is_open(now):
            push(next_open(now), "call", s.id)
            return
        chain = ranked(s, now, "call")
        if not chain:
            return
        r = chain[0]
        offered[s.id].add(r.id)
        if rng.random() < P_REACHED and rng.random() < P_CALL_YES:
            push(now + CALL_MINUTES, "call_yes", s.id, r.id)
        else:
            push(now + CALL_MINUTES, "call", s.id)

    by_id = {r.id: r for r in reqs}
    slot_by_id = {s.id: s for s in pool}
    for r in reqs:
        push(r.at, "arrival", r.id)
        consent[r.id] = own[r.id].choices([c for c, _ in CONSENT], [w for _, w in CONSENT])[0]
    while events:
        now, _, kind, payload = heapq.heappop(events)
        if kind == "arrival":
            r = by_id[payload[0]]
            s = free_slot(r, now)
            if s is not None:
                book(r, s, now, from_list=False)
            elif backfill and consent[r.id] != "none":
                waiting[r.id] = r
                push(deadline(r), "deadline", r.id)
        elif kind == "deadline":
            waiting.pop(payload[0], None)
        elif kind == "cancel":
            rid, by_sms = payload
            s = booked.pop(rid)
            served.discard(rid)
            gone.add(rid)
            s.holder = None
            push(now if by_sms else next_open(now), "freed", s.id)
        elif kind == "freed":
            s = slot_by_id[payload[0]]
            if s.holder is None and s.start - LEAD > now:
                s.freed_at.append(now)
                out.freed += 1
                if backfill:
                    offer_sms(s, now)
                    call(s, now)
        elif kind == "next_sms":
            offer_sms(slot_by_id[payload[0]], now)
        elif kind == "oui":
            s, r = slot_by_id[payload[0]], by_id[payload[1]]
            if s.holder is None and r.id in waiting and fits(r, s, now - LEAD):
                book(r, s, now, from_list=True)
                out.sms += 1  # the booking confirmation
            else:
                out.sms += 1  # « ce créneau vient d'être pris »
        elif kind == "call":
            call(slot_by_id[payload[0]], now)
        elif kind == "call_yes":
            s, r = slot_by_id[payload[0]], by_id[payload[1]]
            if s.holder is None and r.id in waiting:
                book(r, s, now, from_list=True)
            else:
                call(s, now)
    out.cancelled_by_patient = len(gone)
    out.served = len(served)
    out.unfilled = sum(1 for r in reqs if r.id not in served and r.id not in gone)
    out.wasted = out.freed - out.refilled
    return out.summary()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seeds", type=int, default=5, help="seeds seed…seed+n-1, pooled")
    parser.add_argument("--rate", type=float, nargs="+", default=[6.0, 12.0, 18.0])
    parser.add_argument("--cancel-rate", type=float, default=0.10)
    parser.add_argument("--sms-share", type=float, default=0.5)
    args = parser.parse_args()
    results = {}
    for rate in args.rate:
        for policy in ("no_backfill", "backfill"):
            runs = [
                simulate(seed, rate, args.cancel_rate, args.sms_share, policy == "backfill")
                for seed in range(args.seed, args.seed + args.seeds)
            ]
            pooled: dict[str, float | int | None] = {}
            for key in runs[0]:
                values = [run[key] for run in runs if run[key] is not None]
                if not values:
                    pooled[key] = None
                elif all(isinstance(v, int) for v in values):
                    pooled[key] = sum(values)
                else:
                    pooled[key] = round(statistics.mean(values), 4)
            freed = pooled["freed_slots"] or 0
            refilled = pooled["refilled_before_start"] or 0
            need = (pooled["requests"] or 0) - (pooled["cancelled_by_patient"] or 0)
            pooled["share_refilled"] = round(refilled / freed, 4) if freed else None
            pooled["share_served"] = (
                round((pooled["served_within_deadline"] or 0) / need, 4) if need else None
            )
            results[f"rate {rate:g}/h, {policy}"] = pooled
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
