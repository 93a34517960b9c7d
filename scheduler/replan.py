"""Re-planning after a cancellation, a late urgent request or a GP's delay.

Promised windows stay hard. When a promise can no longer be kept (a GP
starts too late to reach it, two promises now collide), that promise alone
is relaxed back to the patient's own window and the visit is listed for the
secretariat to renegotiate; every other promise is still kept.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from scheduler.model import Instance, Parameters, Session, SessionKind, Visit
from scheduler.results import RoundsResult
from scheduler.rounds import solve_rounds
from scheduler.travel import TravelTimeProvider

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplanResult:
    """The new rounds and the patients whose promised window must be renegotiated."""

    plan: RoundsResult
    renegotiate: tuple[str, ...]
    instance: Instance


def apply_delays(instance: Instance, delays: Mapping[str, int]) -> tuple[Session, ...]:
    """Shift the home-visit session start of each delayed GP (a session can vanish)."""
    out = []
    for s in instance.sessions:
        late = delays.get(s.practitioner_id, 0)
        if s.kind == SessionKind.HOME_VISIT and late > 0:
            if s.start + late >= s.end:
                continue
            s = replace(s, start=s.start + late)
        out.append(s)
    return tuple(out)


def replan(
    instance: Instance,
    params: Parameters | None = None,
    *,
    previous: RoundsResult | None = None,
    cancelled: Iterable[str] = (),
    added: Iterable[Visit] = (),
    delays: Mapping[str, int] | None = None,
    travel: TravelTimeProvider | None = None,
) -> ReplanResult:
    """Re-optimise the day after events, keeping promises hard where possible.

    Parameters
    ----------
    instance
        The day as it was planned.
    previous
        The plan in force: it is improved by a descent and competes with a fresh
        search, so the re-plan never costs more than the improved plan in force.
    cancelled
        Visit ids cancelled (by SMS, by the secretariat).
    added
        New visits, e.g. a late urgent request.
    delays
        Minutes of delay per practitioner id: their round starts that much later.
    """
    params = params or Parameters()
    gone = set(cancelled)
    visits = tuple(v for v in instance.visits if v.id not in gone) + tuple(added)
    day = replace(instance, visits=visits, sessions=apply_delays(instance, delays or {}))
    plan = solve_rounds(day, params, travel=travel, initial=previous)
    broken = [d.visit_id for d in plan.dropped if _promised(day, d.visit_id)]
    if not broken:
        return ReplanResult(plan, (), day)
    logger.info("re-plan: %d promised window(s) cannot be kept", len(broken))
    relaxed = tuple(replace(v, promised=None) if v.id in broken else v for v in day.visits)
    day = replace(day, visits=relaxed)
    plan = solve_rounds(day, params, travel=travel, initial=plan)
    return ReplanResult(plan, tuple(broken), day)


def _promised(instance: Instance, visit_id: str) -> bool:
    return any(v.id == visit_id and v.promised is not None for v in instance.visits)
