"""Holds: the options shown to a caller are kept for them a few minutes.

When a secretary, the API or the SAS page shows options for a request, each shown
option is held for that request until ``proposal_hold_seconds`` later. Proposals for
other requests avoid held options (a held teleconsultation slot is not offered; a GP
whose round holds an overlapping home-visit window is ranked after the free ones), so
concurrent callers are offered diverse options. Booking never answers 409 because of a
hold: the holder's booking ignores its own holds, and a booking checks the round of
booked visits only. A hold expires by itself (reads filter on ``expires_at``; old rows
are swept when the same request is shown options again).

A regulator on the SAS page holds the first free slots shown to them the same way, before
any request exists: the holder is then the regulator (``regulator_id``), not a request.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, insert, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.appointments.models import ACTIVE_STATUSES, Appointment
from app.core.timeutil import PARIS
from app.practitioners.models import SessionKind
from app.rounds.models import ProposalHold


@dataclass(frozen=True)
class Held:
    practitioner_id: int
    kind: str
    start_at: dt.datetime
    end_at: dt.datetime

    def overlaps(self, practitioner_id: int, start_at: dt.datetime, end_at: dt.datetime) -> bool:
        return (
            self.practitioner_id == practitioner_id
            and self.start_at < end_at
            and start_at < self.end_at
        )


async def serialise(session: AsyncSession, key: str) -> None:
    """Proposals of one kind are computed one at a time (PostgreSQL advisory lock, held
    to the transaction's end): a caller sees the holds of the caller just before.
    SQLite serialises writers by itself."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(f"holds:{key}".encode())}
        )


def _mine(request_id: int | None, regulator_id: int | None) -> ColumnElement[bool]:
    if request_id is not None:
        return ProposalHold.request_id == request_id
    return ProposalHold.regulator_id == regulator_id


def _not_mine(request_id: int | None, regulator_id: int | None) -> ColumnElement[bool]:
    # NULL-safe: a regulator's hold has no request, a request's hold no regulator.
    if request_id is not None:
        return or_(ProposalHold.request_id.is_(None), ProposalHold.request_id != request_id)
    return or_(ProposalHold.regulator_id.is_(None), ProposalHold.regulator_id != regulator_id)


async def held_by_others(
    *,
    session: AsyncSession,
    request_id: int | None = None,
    regulator_id: int | None = None,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
) -> list[Held]:
    """Live holds of other holders (requests or regulators) between ``start`` and ``end``."""
    rows = await session.execute(
        select(
            ProposalHold.practitioner_id,
            ProposalHold.kind,
            ProposalHold.start_at,
            ProposalHold.end_at,
        ).where(
            _not_mine(request_id, regulator_id),
            ProposalHold.expires_at > now,
            ProposalHold.start_at < end,
            ProposalHold.end_at > start,
        )
    )
    return [Held(pid, kind, s, e) for pid, kind, s, e in rows.all()]


async def booked_timed(
    *, session: AsyncSession, start: dt.datetime, end: dt.datetime
) -> list[Held]:
    """Active timed (not home-visit) appointments between ``start`` and ``end``, read now.

    Proposals read free slots before taking the holds' lock; a slot booked in between
    (and its holder's hold released) is left out through this fresh read.
    """
    rows = await session.execute(
        select(
            Appointment.practitioner_id, Appointment.kind, Appointment.start_at, Appointment.end_at
        ).where(
            Appointment.status.in_(ACTIVE_STATUSES),
            Appointment.kind != SessionKind.home_visit,
            Appointment.start_at < end,
            Appointment.end_at > start,
        )
    )
    return [Held(pid, str(kind), s, e) for pid, kind, s, e in rows.all()]


async def hold(
    *,
    session: AsyncSession,
    request_id: int | None = None,
    regulator_id: int | None = None,
    options: Iterable[tuple[int, str, dt.datetime, dt.datetime]],
    now: dt.datetime,
    seconds: int,
) -> None:
    """Replace the holder's holds by the options just shown (practitioner, kind, start, end)."""
    await session.execute(
        delete(ProposalHold).where(
            _mine(request_id, regulator_id) | (ProposalHold.expires_at <= now)
        )
    )
    rows = [
        {
            "request_id": request_id,
            "regulator_id": regulator_id,
            "practitioner_id": pid,
            "date": start.astimezone(PARIS).date(),
            "kind": kind,
            "start_at": start,
            "end_at": end,
            "expires_at": now + dt.timedelta(seconds=seconds),
        }
        for pid, kind, start, end in options
    ]
    if rows and seconds > 0:
        await session.execute(insert(ProposalHold), rows)


async def release(
    *, session: AsyncSession, request_id: int | None = None, regulator_id: int | None = None
) -> None:
    """A booked request (or a regulator who booked) holds nothing any more."""
    await session.execute(delete(ProposalHold).where(_mine(request_id, regulator_id)))
