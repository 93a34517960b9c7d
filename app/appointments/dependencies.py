"""The booking context the app gives the rules: clock, lengths, tariff table."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request

from app.appointments.service import BookingContext


def booking_context(request: Request) -> BookingContext:
    return booking_context_for(request.app)


def booking_context_for(app: FastAPI) -> BookingContext:
    """The same context for work outside a request (periodic jobs)."""
    state = app.state
    return BookingContext(
        now=state.clock(),
        listeners=tuple(state.appointment_listeners),
        teleconsultation_minutes=state.settings.teleconsultation_slot_minutes,
        home_visit_window_minutes=state.settings.arrival_window_minutes,
        tariffs=state.tariffs,
        video=state.video,
        regulators_book_only_from_sas=state.sas_settings.sas_regulator_bookings_only_from_sas,
        noshow_grace_minutes=state.settings.noshow_grace_minutes,
    )


BookingContextDep = Annotated[BookingContext, Depends(booking_context)]
