"""Frozen input data of the scheduler: practitioners, sessions, requests, one day's instance.

Time convention
---------------
Every time of day is an ``int`` number of **minutes from midnight** (local
Europe/Paris wall-clock time) on the instance's ``day``. The app converts its
time-zone-aware datetimes to and from this form; the library never reads a
clock. A deadline that falls on a later day is simply ``None`` for this day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Status(StrEnum):
    """Whether a GP is installed (titular) or works alongside a titular (adjoint)."""

    TITULAR = "titular"
    ADJOINT = "adjoint"


class SessionKind(StrEnum):
    """The two modalities a GP can be on duty for."""

    HOME_VISIT = "home_visit"
    TELECONSULTATION = "teleconsultation"


class Urgency(StrEnum):
    """Triage urgency; drives the penalty paid when a request cannot be served."""

    SAME_DAY = "same_day"
    WITHIN_24H = "within_24h"
    WITHIN_48H = "within_48h"


@dataclass(frozen=True)
class Window:
    """A closed interval ``[start, end]`` of minutes from midnight."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"window ends before it starts: {self.start}-{self.end}")

    def contains(self, minute: float) -> bool:
        """Whether ``minute`` lies in the window (bounds included)."""
        return self.start <= minute <= self.end


@dataclass(frozen=True)
class Practitioner:
    """A GP of the platform; adjoints carry their titular and authorisation dates."""

    id: str
    name: str
    lat: float
    lon: float
    status: Status = Status.TITULAR
    titular_id: str | None = None
    authorised_from: date | None = None
    authorised_until: date | None = None
    languages: frozenset[str] = frozenset({"fr"})
    max_visits: int = 8
    slot_minutes: int = 15
    max_teleconsultations_per_hour: int | None = None

    def __post_init__(self) -> None:
        if self.status == Status.ADJOINT and not self.titular_id:
            raise ValueError(f"adjoint {self.id} needs a titular_id")
        if self.slot_minutes <= 0 or self.max_visits < 0:
            raise ValueError(f"practitioner {self.id}: bad slot length or visit maximum")

    def authorised_on(self, day: date) -> bool:
        """Whether the practitioner may work on ``day`` (always true for a titular)."""
        if self.status == Status.TITULAR:
            return True
        if self.authorised_from is not None and day < self.authorised_from:
            return False
        return self.authorised_until is None or day <= self.authorised_until

    def speaks(self, language: str | None) -> bool:
        """Whether a request needing ``language`` can be served by this GP."""
        return language is None or language in self.languages


@dataclass(frozen=True)
class Session:
    """A span during which a GP is on duty for one modality on the instance's day."""

    practitioner_id: str
    kind: SessionKind
    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"session of {self.practitioner_id} is empty")

    def overlap(self, other: Session) -> int:
        """Minutes shared with ``other`` (0 when disjoint)."""
        return max(0, min(self.end, other.end) - max(self.start, other.start))


@dataclass(frozen=True)
class Visit:
    """A home-visit request of the day.

    ``window`` is what the patient can do; ``promised`` is the arrival window
    already told to the patient and is hard; ``preferred_practitioner_id`` is
    continuity of care and only soft; ``assigned_practitioner_id`` pins a
    visit already booked with one GP to that GP's round (hard).
    """

    id: str
    lat: float
    lon: float
    urgency: Urgency = Urgency.WITHIN_48H
    service_minutes: int = 20
    window: Window | None = None
    deadline: int | None = None
    promised: Window | None = None
    language: str | None = None
    preferred_practitioner_id: str | None = None
    assigned_practitioner_id: str | None = None

    def hard_window(self, horizon: int = 24 * 60) -> Window | None:
        """Intersect the patient's window, the deadline and the promise (None if empty)."""
        lo, hi = 0, horizon
        for w in (self.window, self.promised):
            if w is not None:
                lo, hi = max(lo, w.start), min(hi, w.end)
        if self.deadline is not None:
            hi = min(hi, self.deadline)
        return Window(lo, hi) if lo <= hi else None


@dataclass(frozen=True)
class TeleconsultationRequest:
    """A teleconsultation request; ``booked`` is a slot already promised, kept hard."""

    id: str
    urgency: Urgency = Urgency.WITHIN_48H
    earliest: int = 0
    deadline: int | None = None
    language: str | None = None
    preferred_practitioner_id: str | None = None
    booked: SlotRef | None = None


@dataclass(frozen=True)
class SlotRef:
    """A teleconsultation slot: a GP and the minute it starts."""

    practitioner_id: str
    start: int


@dataclass(frozen=True)
class Instance:
    """Everything known about one day: team, sessions and requests."""

    day: date
    practitioners: tuple[Practitioner, ...]
    sessions: tuple[Session, ...]
    visits: tuple[Visit, ...] = ()
    teleconsultations: tuple[TeleconsultationRequest, ...] = ()

    def __post_init__(self) -> None:
        ids = [p.id for p in self.practitioners]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate practitioner ids")
        visit_ids = [v.id for v in self.visits]
        if len(set(visit_ids)) != len(visit_ids):
            raise ValueError("duplicate visit ids")
        unknown = {s.practitioner_id for s in self.sessions} - set(ids)
        if unknown:
            raise ValueError(f"sessions of unknown practitioners: {sorted(unknown)}")

    def practitioner(self, practitioner_id: str) -> Practitioner:
        """The practitioner with this id (KeyError when unknown)."""
        for p in self.practitioners:
            if p.id == practitioner_id:
                return p
        raise KeyError(practitioner_id)

    def sessions_of(self, practitioner_id: str, kind: SessionKind | None = None) -> list[Session]:
        """Sessions of one practitioner, optionally of one kind, in start order."""
        return sorted(
            (
                s
                for s in self.sessions
                if s.practitioner_id == practitioner_id and (kind is None or s.kind == kind)
            ),
            key=lambda s: (s.start, s.end),
        )


#: Default drop penalties by urgency, in cost units (seconds of travel): a
#: same-day visit is worth far more than any detour, so it is dropped last.
DEFAULT_PENALTIES: dict[Urgency, int] = {
    Urgency.SAME_DAY: 1_000_000,
    Urgency.WITHIN_24H: 100_000,
    Urgency.WITHIN_48H: 20_000,
}


@dataclass(frozen=True)
class Parameters:
    """Solver knobs; the library takes them instead of reading any environment.

    ``time_limit_s`` caps the wall clock; the deterministic stop is a budget
    of accepted local-search solutions. With ``work_limit`` None it is derived
    from the time limit as ``time_limit_s * rate / customers``, the rate of the
    search that runs (``work_rate`` for ILS, ``gls_work_rate`` for GLS): a
    solve of n customers accepts roughly ``rate / n`` solutions a second on
    one core, so on an idle machine the budget, not the clock, ends the search
    and the same seed gives the same plan. ``deterministic=False`` drops the
    budget and searches to the time limit (benchmarks).
    """

    time_limit_s: float = 2.0
    seed: int = 0
    work_limit: int | None = None
    # Measured (benchmarks/RESULTS.md): ILS accepts 55,000-75,000 / n solutions a
    # second on 24-80 visit mornings on the faster of our machines, 28,000-33,000 / n on
    # the slower (stop 14); GLS 16,000-18,000 / n on 10-16 visits. 16,000 spends the
    # budget in 21-29 % of the limit on the one, 48-58 % on the other, inside the 85 %
    # the searches get (the rest recombines their rounds), so the budget, not the
    # clock, ends the search (and cools ILS's annealing) and a seed gives one plan.
    work_rate: int = 16_000
    gls_work_rate: int = 6_000
    deterministic: bool = True
    window_width: int = 60
    circuity: float = 1.35
    speed_kmh: float = 22.0
    return_allowance: int = 30
    penalties: dict[Urgency, int] = field(default_factory=lambda: dict(DEFAULT_PENALTIES))
    promised_penalty: int = 100_000_000
    continuity_penalty: int = 600
    # Soft cost of a GP back after the session end, per second late, in cost
    # units (seconds of travel): 3 = a minute of overtime weighs three minutes
    # of driving; 0 disables it (the hard limit stays end + return_allowance).
    overtime_cost: int = 3
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    # ILS from these first solutions too, each in a worker process side by side
    # with ``first_solution``; the cheapest plan wins (scheduler.portfolio). On the
    # 80-visit mornings the best of PCI and LCI is 2.9 % above PyVRP where PCI
    # alone is 4.9 % (benchmarks/RESULTS.md). () = one search on one core.
    rival_first_solutions: tuple[str, ...] = ("LOCAL_CHEAPEST_INSERTION",)
    # ILS keeps the rounds its searches meet and ends on the best plan made of
    # them (scheduler.recombine): 80 visits 1.7 % above PyVRP instead of 3.4 %.
    recombine_rounds: bool = True
    # Mornings of three regions or more (54 GPs) are improved region by region, each
    # region this many neighbouring GPs (scheduler.regions): 320 visits / 60 GPs at
    # 10 s from 3-7 % above PyVRP to within 2 % (benchmarks/RESULTS.md). 0 = never.
    region_vehicles: int = 18
    # "ils" (ruin and recreate, the default), "gls" or "descent": scheduler.routing.SEARCHES.
    search: str = "ils"
    # Guided local search penalty weight, tuned on Bièvre mornings (benchmarks/RESULTS.md).
    gls_lambda: float = 0.5
    # Reset GLS penalties on each new best solution (rounds: better on 3 of 5 seeds,
    # never worse, with the overtime cost; benchmarks/RESULTS.md).
    gls_reset_penalties: bool = True

    def effective_work_limit(self, customers: int, search: str = "ils") -> int | None:
        """The deterministic budget of local-search solutions for ``customers`` nodes."""
        if self.work_limit is not None:
            return self.work_limit
        if not self.deterministic:
            return None
        rate = self.work_rate if search == "ils" else self.gls_work_rate
        return max(50, int(self.time_limit_s * rate / max(customers, 10)))
