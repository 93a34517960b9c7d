"""Result dataclasses of the morning rounds: they check and explain themselves."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from scheduler.model import Urgency, Window


class DropReason(StrEnum):
    """Why a visit is not in any round (never silently lost)."""

    NO_PRACTITIONER_ON_DUTY = "no_practitioner_on_duty"
    LANGUAGE = "language"
    OUTSIDE_SESSIONS = "outside_sessions"
    PROMISE_UNREACHABLE = "promise_unreachable"
    CAPACITY = "capacity"
    TIME = "time"


DROP_TEXT = {
    DropReason.NO_PRACTITIONER_ON_DUTY: "aucun médecin en tournée ce jour",
    DropReason.LANGUAGE: "aucun médecin de tournée ne parle la langue demandée",
    DropReason.OUTSIDE_SESSIONS: "créneau du patient hors des tournées",
    DropReason.PROMISE_UNREACHABLE: "fenêtre promise inatteignable",
    DropReason.CAPACITY: "tous les médecins possibles ont atteint leur maximum de visites",
    DropReason.TIME: "pas assez de temps dans les tournées",
}


@dataclass(frozen=True)
class Stop:
    """A visit in a round: planned arrival and the narrowed window told to the patient."""

    visit_id: str
    arrival: int
    window: Window
    service_minutes: int
    travel_minutes: float


@dataclass(frozen=True)
class Route:
    """One GP's ordered round, leaving from and returning to their practice."""

    practitioner_id: str
    stops: tuple[Stop, ...]
    depart: int
    back: int
    travel_minutes: float

    @property
    def visit_ids(self) -> tuple[str, ...]:
        """Visit ids in visiting order."""
        return tuple(s.visit_id for s in self.stops)


@dataclass(frozen=True)
class DroppedVisit:
    """A visit left out, with its urgency and the reason."""

    visit_id: str
    urgency: Urgency
    reason: DropReason

    @property
    def text(self) -> str:
        """French reason for the secretariat."""
        return DROP_TEXT[self.reason]


@dataclass(frozen=True)
class RoundsResult:
    """The day's rounds: routes, dropped visits with reasons, objective broken down.

    ``objective`` holds ``travel``, ``continuity``, ``dropped`` and ``overtime`` cost terms
    (seconds-equivalent units) and ``total``; ``continuity_missed`` lists the
    visits whose preferred GP could not be kept (soft constraint violated).
    """

    day: date
    routes: tuple[Route, ...]
    dropped: tuple[DroppedVisit, ...]
    travel_minutes: float
    objective: dict[str, int]
    continuity_missed: tuple[str, ...] = ()
    excluded_practitioners: dict[str, str] = field(default_factory=dict)
    stopped_by: str = ""
    solutions: int = 0
    wall_time_s: float = 0.0
    search: str = ""

    def route_of(self, practitioner_id: str) -> Route | None:
        """The round of one GP, if they have one."""
        return next((r for r in self.routes if r.practitioner_id == practitioner_id), None)

    def assignment(self) -> dict[str, str]:
        """Visit id → practitioner id for every served visit."""
        return {s.visit_id: r.practitioner_id for r in self.routes for s in r.stops}

    def stop(self, visit_id: str) -> Stop | None:
        """The stop of one visit, if served."""
        return next((s for r in self.routes for s in r.stops if s.visit_id == visit_id), None)

    def check(self) -> list[str]:
        """Internal consistency problems (empty when the plan holds together)."""
        problems = []
        seen: set[str] = set()
        for r in self.routes:
            t = r.depart
            for s in r.stops:
                if s.visit_id in seen:
                    problems.append(f"{s.visit_id} served twice")
                seen.add(s.visit_id)
                if not s.window.contains(s.arrival):
                    problems.append(f"{s.visit_id}: arrival {s.arrival} outside {s.window}")
                if s.arrival < t:
                    problems.append(f"{s.visit_id}: arrival before the previous stop ends")
                t = s.arrival + s.service_minutes
            if r.back < t:
                problems.append(f"{r.practitioner_id}: back before the last visit ends")
        for d in self.dropped:
            if d.visit_id in seen:
                problems.append(f"{d.visit_id} both served and dropped")
        parts = sum(v for k, v in self.objective.items() if k != "total")
        if self.objective and parts != self.objective.get("total", parts):
            problems.append("objective parts do not add up")
        return problems

    def explain(self, names: Mapping[str, str] | None = None) -> str:
        """A short French account of the plan, one line per round and per drop.

        ``names`` gives the people's names by practitioner and visit id ("Dr Martin");
        an id without a name is written as is (benchmarks).
        """
        label = (names or {}).get
        lines = []
        for r in self.routes:
            if not r.stops:
                continue
            stops = ", ".join(
                f"{label(s.visit_id, s.visit_id)} {_hhmm(s.window.start)}–{_hhmm(s.window.end)}"
                for s in r.stops
            )
            count = len(r.stops)
            lines.append(
                f"{label(r.practitioner_id, r.practitioner_id)} : {count} "
                f"visite{'s' if count > 1 else ''}, "
                f"{r.travel_minutes:.0f} min de trajet — {stops}"
            )
        for d in self.dropped:
            lines.append(f"{label(d.visit_id, d.visit_id)} non planifiée ({d.urgency}) : {d.text}")
        for vid in self.continuity_missed:
            lines.append(
                f"{label(vid, vid)} : médecin habituel non disponible (continuité non respectée)"
            )
        for pid, why in sorted(self.excluded_practitioners.items()):
            lines.append(f"{label(pid, pid)} sans tournée : {EXCLUSION_TEXT.get(why, why)}")
        return "\n".join(lines)


#: Why a practitioner has no round, in the words the summary uses.
EXCLUSION_TEXT = {
    "no_session": "pas de vacation de visites ce jour",
    "adjoint_outside_authorisation": "hors des dates d'autorisation de l'adjoint",
    "adjoint_titular_unknown": "titulaire de l'adjoint inconnu",
    "adjoint_without_titular": "titulaire absent ou hors service",
}


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
