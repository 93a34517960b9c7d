"""What happens after a booking, a cancellation, a move and an outcome: declared here, once.

Each domain registers the handler of its effect in its wiring
(``app.state.appointment_listeners.register(Effect.SMS, handler)``); the order in
which effects run, and the events each one follows, are this module's :data:`AFTER`,
not the order in which the domains happen to be wired. Effects run inside the
booking transaction: whatever they queue (outbox messages) is committed with the
change or not at all.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator

from sqlalchemy.ext.asyncio import AsyncSession

from app.appointments.events import AppointmentEvent, EventKind, Listener


class Effect(enum.StrEnum):
    REPLAN_ROUNDS = "rounds.replan"  # a freed home visit: re-plan that morning, promises kept
    SAS_PUSH = "sas.push"  # INT_R03 for appointments that came from the SAS
    SAS_HOME_VISIT_WINDOWS = "sas.home_visit_windows"  # drop the day's cached HH windows
    SMS = "messaging.sms"  # confirmation, change, cancellation, narrowed window
    ICAL = "gp.ical"  # calendar SEQUENCE and departures
    ORIENTATION = "orientation.enter_seen_patient"  # seen without médecin traitant
    # Freed capacity offered to the waiting list; a booked waiting request leaves it.
    WAITLIST = "waitlist.backfill"


AFTER: dict[EventKind, tuple[Effect, ...]] = {
    EventKind.booked: (Effect.SAS_PUSH, Effect.SAS_HOME_VISIT_WINDOWS, Effect.SMS, Effect.WAITLIST),
    EventKind.cancelled: (
        Effect.REPLAN_ROUNDS,
        Effect.SAS_PUSH,
        Effect.SAS_HOME_VISIT_WINDOWS,
        Effect.SMS,
        Effect.ICAL,
        Effect.WAITLIST,  # after the re-plan: the round the offer is checked against
    ),
    EventKind.rescheduled: (
        Effect.SAS_PUSH,
        Effect.SAS_HOME_VISIT_WINDOWS,
        Effect.SMS,
        Effect.ICAL,
        Effect.WAITLIST,  # the place it left is offered to the list
    ),
    EventKind.outcome: (
        Effect.SAS_PUSH,
        Effect.SAS_HOME_VISIT_WINDOWS,
        Effect.ICAL,
        Effect.ORIENTATION,
        Effect.WAITLIST,  # a home visit's no-show frees the rest of the round
    ),
    EventKind.outcome_undone: (Effect.SAS_PUSH, Effect.ICAL),
    EventKind.window_narrowed: (
        Effect.SAS_PUSH,
        Effect.SAS_HOME_VISIT_WINDOWS,
        Effect.SMS,
        Effect.ICAL,
    ),
}


class Effects:
    """The app's registry of appointment effects, iterated as the listeners of an event.

    ``append`` adds an ad-hoc listener (tests) run after the declared effects.
    """

    def __init__(self) -> None:
        self.handlers: dict[Effect, Listener] = {}
        self._extra: list[Listener] = []

    def register(self, effect: Effect, handler: Listener) -> None:
        if effect in self.handlers:
            raise ValueError(f"effect {effect} registered twice")
        self.handlers[effect] = handler

    def missing(self) -> set[Effect]:
        return set(Effect) - self.handlers.keys()

    def plan(self, kind: EventKind) -> tuple[Effect, ...]:
        """The effects an event of this kind runs, in order (those registered)."""
        return tuple(e for e in AFTER[kind] if e in self.handlers)

    async def run(self, session: AsyncSession, event: AppointmentEvent) -> None:
        for effect in self.plan(event.kind):
            await self.handlers[effect](session, event)

    def append(self, listener: Listener) -> None:
        self._extra.append(listener)

    def clear(self) -> None:
        """Forget the ad-hoc listeners (the declared effects stay)."""
        self._extra.clear()

    def __iter__(self) -> Iterator[Listener]:
        yield self.run
        yield from list(self._extra)
