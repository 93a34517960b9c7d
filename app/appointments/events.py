"""Appointment events: other domains (SMS, SAS push, rounds) react without touching booking.

Listeners run inside the booking transaction, so whatever they queue (outbox
messages) is committed with the booking or not at all.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.appointments.models import Appointment


class EventKind(enum.StrEnum):
    booked = "booked"
    cancelled = "cancelled"
    rescheduled = "rescheduled"
    outcome = "outcome"  # fulfilled or noshow recorded
    outcome_undone = "outcome_undone"  # the author undid it the same day: booked again
    window_narrowed = "window_narrowed"  # a home visit's arrival window set by the rounds


@dataclass(frozen=True)
class AppointmentEvent:
    kind: EventKind
    appointment: Appointment
    actor: User | None
    now: dt.datetime
    previous_start: dt.datetime | None = None
    previous_practitioner_id: int | None = None


Listener = Callable[[AsyncSession, AppointmentEvent], Awaitable[None]]


async def emit(
    session: AsyncSession, listeners: Sequence[Listener], event: AppointmentEvent
) -> None:
    for listener in listeners:
        await listener(session, event)
