"""INT_R04 from the database: the searched GPs, their free SNP slots, as SAS views.

Teleconsultation (``VR``) and practice (``AMB``) slots come from
``appointments_service.free_slots(..., sas_only=True)``: sessions the CPTS opened to the
SAS, cut at each GP's length, minus what is held. Home-visit (``HH``) slots are the windows
where the rounds can absorb one more visit, asked to the rounds domain when it offers
``absorbable_home_visit_windows`` (cached per day: the solver is too slow for every search).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.appointments import service as appointments_service
from app.core.timeutil import PARIS
from app.practitioners.models import DutySession, Practitioner, SessionKind
from app.rounds import service as rounds_service
from app.rounds.planner import SolverUnavailable
from app.sas.config import normalise_phone
from app.sas.search_params import SlotSearch
from app.sas.views import PlaceView, PractitionerView, SlotView

logger = logging.getLogger(__name__)

PLACE_ID = "cabinet"
_TIMED_KINDS = ((SessionKind.teleconsultation, "VR"), (SessionKind.practice, "AMB"))


def agenda_url(public_base_url: str, practitioner_id: int) -> str:
    """The GP's agenda in our UI, as published in ``Slot.comment`` (the SAS adds origin=sas)."""
    return f"{public_base_url.rstrip('/')}/sas/praticiens/{practitioner_id}"


def practitioner_fhir_id(practitioner_id: int) -> str:
    return f"pr-{practitioner_id}"


def slot_id(prefix: str, session_id: int, start: dt.datetime) -> str:
    """A stable FHIR id for a slot: its kind, its session and its start (UTC minute)."""
    return f"{prefix}-{session_id}-{start.astimezone(dt.UTC):%Y%m%d%H%M}"


def _phone(value: str | None) -> str | None:
    try:
        return normalise_phone(value) if value else None
    except ValueError:
        return None


def practitioner_view(practitioner: Practitioner, *, public_base_url: str) -> PractitionerView:
    """A GP of ours as the SAS mapping sees him: national id, name, place, agenda URL."""
    return PractitionerView(
        id=practitioner_fhir_id(practitioner.id),
        family=practitioner.family_name,
        given=practitioner.given_name,
        rpps=practitioner.rpps,
        agenda_url=agenda_url(public_base_url, practitioner.id),
        places=(
            PlaceView(
                id=PLACE_ID,
                address_line=practitioner.address,
                city=practitioner.commune,
                postal_code=practitioner.postal_code,
                insee_code=practitioner.commune_insee,
                phone=_phone(practitioner.phone),
            ),
        ),
    )


async def find_practitioners(
    *, session: AsyncSession, search: SlotSearch
) -> Sequence[Practitioner]:
    """The active GPs the search names, whether our data store the RPPS prefixed or not."""
    values = {value for key in search.practitioners for value in key.lookup_values}
    if not values:
        return []
    stmt = (
        select(Practitioner)
        .where(Practitioner.rpps.in_(values), Practitioner.active.is_(True))
        .order_by(Practitioner.id)
    )
    return (await session.scalars(stmt)).all()


@dataclass
class HomeVisitWindows:
    """Absorbable home-visit windows per (day, GP), kept ``ttl`` seconds in this process.

    A booking, cancellation or move of a home visit drops its day at once (appointment
    listener); other processes see the change when their entry expires.
    """

    ttl: float = 300.0
    _entries: dict[tuple[dt.date, int], tuple[float, list[Any]]] = field(default_factory=dict)

    def get(self, day: dt.date, practitioner_id: int) -> list[Any] | None:
        entry = self._entries.get((day, practitioner_id))
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, day: dt.date, practitioner_id: int, windows: list[Any]) -> None:
        if self.ttl > 0:
            self._entries[(day, practitioner_id)] = (time.monotonic() + self.ttl, windows)

    def drop_day(self, day: dt.date) -> None:
        for key in [k for k in self._entries if k[0] == day]:
            self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()


async def _absorbable(
    *,
    session: AsyncSession,
    practitioner_ids: list[int],
    day: dt.date,
    now: dt.datetime,
    state: Any,
) -> list[Any]:
    """The rounds' absorbable windows of one day; a solver time-out leaves only timed slots."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=PARIS)
    try:
        return list(
            await rounds_service.absorbable_home_visit_windows(
                session=session,
                practitioner_ids=practitioner_ids,
                start=start,
                end=start + dt.timedelta(days=1),
                now=now,
                planner=state.rounds_planner,
            )
        )
    except SolverUnavailable:
        logger.warning("home-visit windows unavailable for %s: solver did not answer", day)
        return []


async def home_visit_slots(
    *,
    session: AsyncSession,
    practitioner_ids: list[int],
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    cache: HomeVisitWindows,
    state: Any = None,
) -> list[SlotView]:
    """HH slots: absorbable windows inside home-visit sessions the CPTS opened to the SAS."""
    if not practitioner_ids:
        return []
    rows = (
        await session.execute(
            select(DutySession.id, DutySession.practitioner_id, DutySession.start_at).where(
                DutySession.practitioner_id.in_(practitioner_ids),
                DutySession.kind == SessionKind.home_visit,
                DutySession.open_to_sas.is_(True),
                DutySession.cancelled.is_(False),
                DutySession.start_at < end,
                DutySession.end_at > start,
                DutySession.end_at > now,
            )
        )
    ).all()
    if not rows:
        return []
    open_sessions = {sid for sid, _pid, _start in rows}
    days: dict[dt.date, set[int]] = {}
    for _sid, pid, begins in rows:
        days.setdefault(begins.astimezone(PARIS).date(), set()).add(pid)
    slots: list[SlotView] = []
    for day, pids in sorted(days.items()):
        windows: list[Any] = []
        missing = []
        for pid in sorted(pids):
            cached = cache.get(day, pid)
            if cached is None:
                missing.append(pid)
            else:
                windows += cached
        if missing:
            found = await _absorbable(
                session=session, practitioner_ids=missing, day=day, now=now, state=state
            )
            for pid in missing:
                mine = [w for w in found if w.practitioner_id == pid]
                cache.put(day, pid, mine)
                windows += mine
        for window in windows:
            if window.session_id not in open_sessions:
                continue
            if window.start_at < max(start, now) or window.start_at > end:
                continue
            slots.append(
                SlotView(
                    id=slot_id("hh", window.session_id, window.start_at),
                    practitioner_id=practitioner_fhir_id(window.practitioner_id),
                    start=window.start_at.astimezone(PARIS),
                    end=window.end_at.astimezone(PARIS),
                    consultation_type="HH",
                    place_id=PLACE_ID,
                )
            )
    return slots


async def timed_slots(
    *,
    session: AsyncSession,
    practitioner_ids: list[int],
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
) -> list[SlotView]:
    """VR and AMB slots of the sessions open to the SAS, starting in ``[start, end]``."""
    slots: list[SlotView] = []
    for kind, code in _TIMED_KINDS:
        found = await appointments_service.free_slots(
            session=session,
            start=start,
            # free_slots is half-open; the SAS's ``start=le…`` bound is inclusive.
            end=end + dt.timedelta(microseconds=1),
            practitioner_ids=practitioner_ids,
            kind=kind,
            sas_only=True,
            now=now,
        )
        slots += [
            SlotView(
                id=slot_id(code.lower(), duty.id, begins),
                practitioner_id=practitioner_fhir_id(duty.practitioner_id),
                start=begins,
                end=ends,
                consultation_type=code,
                place_id=PLACE_ID,
            )
            for duty, begins, ends in found
        ]
    return slots


async def search(
    *,
    session: AsyncSession,
    search: SlotSearch,
    now: dt.datetime,
    public_base_url: str,
    cache: HomeVisitWindows | None = None,
    state: Any = None,
) -> tuple[list[SlotView], list[PractitionerView]]:
    """The free slots and the GPs of an INT_R04 search (unknown ids simply match nothing)."""
    practitioners = await find_practitioners(session=session, search=search)
    if not practitioners:
        return [], []
    ids = [p.id for p in practitioners]
    slots = await timed_slots(
        session=session, practitioner_ids=ids, start=search.start_ge, end=search.start_le, now=now
    )
    if cache is not None:
        slots += await home_visit_slots(
            session=session,
            practitioner_ids=ids,
            start=search.start_ge,
            end=search.start_le,
            now=now,
            cache=cache,
            state=state,
        )
    views = [practitioner_view(p, public_base_url=public_base_url) for p in practitioners]
    return slots, views
