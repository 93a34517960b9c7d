"""The request page's proposals: the rounds scheduler's, or plain free slots when it times out.

``rounds_proposals.list_proposals`` serves the page. The one unavailability it has
is ``SolverUnavailable`` (the planner did not answer within its time limit): the
secretary then gets the nearest free slots, with a note, rather than an error page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.appointments import queries as appointments_queries
from app.appointments import service as appointments_service
from app.practitioners import eligibility
from app.practitioners import service as practitioners_service
from app.practitioners.models import SessionKind
from app.requests.models import CareRequest
from app.rounds import proposals as rounds_proposals
from app.rounds.planner import SolverUnavailable
from app.rounds.schemas import ProposalOut

_HOUR = dt.timedelta(hours=1)


@dataclass
class FreeSlot:
    """A free-slot option, shaped like ``ProposalOut`` for the template."""

    practitioner_id: int
    practitioner_name: str
    kind: SessionKind
    start_at: dt.datetime
    end_at: dt.datetime
    deadline_slack_minutes: int
    planned_arrival: None = None
    added_travel_minutes: None = None  # shown as "non calculé"
    label: str = ""
    why: str = "premier créneau libre"


@dataclass
class Proposals:
    options: list[ProposalOut] | list[FreeSlot] = field(default_factory=list)
    note: str | None = None
    other_times: list[ProposalOut] = field(default_factory=list)
    # True when no option holds the deadline: these are the first ones after it, each to
    # book with a derogation reason (the booking rule asks for it).
    past_deadline: bool = False


async def proposals(
    *, request: Request, session: AsyncSession, care_request: CareRequest, actor: User, k: int = 5
) -> Proposals:
    """The scheduler's best options for an open request; free slots if the solver timed out."""
    now = request.app.state.clock()
    try:
        out = await rounds_proposals.list_proposals(
            session=session,
            request_id=care_request.id,
            k=k,
            actor=actor,
            planner=request.app.state.rounds_planner,
            now=now,
        )
    except SolverUnavailable as exc:
        return Proposals(
            options=await _free_slots(session=session, care_request=care_request, now=now, k=k),
            note=f"{exc.message} : créneaux libres les plus proches affichés.",
        )
    if out.options or care_request.deadline is None:
        return Proposals(options=out.options[:k], note=out.message, other_times=out.other_times)
    later = await rounds_proposals.list_proposals(
        session=session,
        request_id=care_request.id,
        k=k,
        actor=actor,
        planner=request.app.state.rounds_planner,
        now=now,
        beyond=True,
    )
    return Proposals(
        options=later.options[:k],
        other_times=later.other_times,
        note="Aucune option ne tient l'échéance. "
        + (
            "Voici les premières après elle : réservez avec un motif de dérogation, "
            "ou choisissez une autre issue ci-dessous."
            if later.options
            else "Choisissez une autre issue ci-dessous."
        ),
        past_deadline=True,
    )


async def _free_slots(
    *, session: AsyncSession, care_request: CareRequest, now: dt.datetime, k: int
) -> list[FreeSlot]:
    """The first free slot of each practitioner before the deadline (home visits: one hour)."""
    kind = care_request.modality or SessionKind.teleconsultation
    lead = now + dt.timedelta(minutes=30)
    end = care_request.deadline or now + dt.timedelta(days=2)
    names = {p.id: p.display_name for p in await practitioners_service.list_(session=session)}
    firsts: dict[int, tuple[dt.datetime, dt.datetime]] = {}
    if kind == SessionKind.home_visit:
        # The same rules as booking (``eligibility``): no option that booking would refuse.
        roster = await eligibility.load(
            session, start=now, end=end, kinds=[kind], held=appointments_queries.held_in_sessions
        )
        for duty in roster.sessions_of_kind(kind):
            gp = roster.people.get(duty.practitioner_id)
            if gp is None or duty.practitioner_id in firsts:
                continue
            start = duty.start_at
            while start + _HOUR <= duty.end_at:
                if (
                    start >= lead
                    and eligibility.slot_refusal(roster, gp, kind, start, start + _HOUR)[1] is None
                ):
                    firsts[duty.practitioner_id] = (start, start + _HOUR)
                    break
                start += _HOUR
    else:
        slots = await appointments_service.free_slots(
            session=session, start=now, end=end, kind=kind, now=lead
        )
        for duty, start, stop in slots:
            firsts.setdefault(duty.practitioner_id, (start, stop))
    found = [
        FreeSlot(
            practitioner_id=pid,
            practitioner_name=names[pid],
            kind=kind,
            start_at=start,
            end_at=stop,
            deadline_slack_minutes=int((end - stop).total_seconds() // 60),
        )
        for pid, (start, stop) in firsts.items()
        if pid in names
    ]
    found.sort(key=lambda p: (p.start_at, p.practitioner_name))
    return found[:k]
