"""When reminders are due for an appointment, from the settings: pure, clock passed in.

The app (or its worker) asks :func:`reminder_times` at booking and queues one
outbox event per returned time; a reminder whose time has already passed at
booking, or that would arrive after the appointment started, is not due.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from telephony.config import TelephonySettings


class ReminderKind(StrEnum):
    """Which reminder (part of the outbox idempotency key: one SMS per kind)."""

    EVENING_BEFORE = "evening_before"
    HOURS_BEFORE = "hours_before"


@dataclass(frozen=True, slots=True)
class DueReminder:
    """A reminder to send at ``send_at`` (aware, UTC)."""

    kind: ReminderKind
    send_at: dt.datetime


def reminder_times(
    settings: TelephonySettings, *, start: dt.datetime, booked_at: dt.datetime
) -> list[DueReminder]:
    """Reminders to send for an appointment starting at ``start`` booked at ``booked_at``.

    Skips a reminder already past at booking, and the evening reminder for an
    appointment booked that evening or later (the confirmation just arrived).
    """
    if start.tzinfo is None or booked_at.tzinfo is None:
        raise ValueError("des dates avec fuseau horaire sont attendues")
    local_start = start.astimezone(settings.tz)
    due: list[DueReminder] = []
    if settings.reminder_evening_before:
        eve = dt.datetime.combine(
            local_start.date() - dt.timedelta(days=1),
            settings.reminder_evening_time,
            tzinfo=settings.tz,
        )
        if booked_at < eve < start:
            due.append(DueReminder(ReminderKind.EVENING_BEFORE, eve.astimezone(dt.UTC)))
    if settings.reminder_hours_before > 0:
        before = start - dt.timedelta(hours=settings.reminder_hours_before)
        if booked_at < before:
            due.append(DueReminder(ReminderKind.HOURS_BEFORE, before.astimezone(dt.UTC)))
    return sorted(due, key=lambda r: r.send_at)
