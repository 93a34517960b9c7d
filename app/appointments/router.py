"""Appointments: book, cancel, reschedule, record the outcome."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.accounts.dependencies import STAFF, CurrentUser, require_roles
from app.accounts.models import Role
from app.appointments import service as appointments_service
from app.appointments.dependencies import BookingContextDep
from app.appointments.schemas import AppointmentOut, BookingIn, CancelIn, RescheduleIn, StatusIn
from app.core.db import SessionDep

router = APIRouter(prefix="/api/appointments", tags=["appointments"])


@router.post(
    "",
    response_model=AppointmentOut,
    status_code=201,
    dependencies=[require_roles(*STAFF)],
)
async def book(
    booking_in: BookingIn, session: SessionDep, user: CurrentUser, ctx: BookingContextDep
) -> Any:
    return await appointments_service.book(
        session=session, booking_in=booking_in, actor=user, ctx=ctx
    )


@router.get(
    "/{appointment_id}",
    response_model=AppointmentOut,
    dependencies=[
        require_roles(*Role, own="médecin : ses rendez-vous ; régulateur SAS : ceux qu'il a pris")
    ],
)
async def get_appointment(appointment_id: int, session: SessionDep, user: CurrentUser) -> Any:
    return await appointments_service.get(
        session=session, appointment_id=appointment_id, actor=user
    )


@router.post(
    "/{appointment_id}/cancel",
    response_model=AppointmentOut,
    dependencies=[require_roles(*STAFF, Role.regulator)],
)
async def cancel(
    appointment_id: int,
    cancel_in: CancelIn,
    session: SessionDep,
    user: CurrentUser,
    ctx: BookingContextDep,
) -> Any:
    return await appointments_service.cancel(
        session=session,
        appointment_id=appointment_id,
        reason=cancel_in.reason,
        by_patient=cancel_in.by_patient,
        actor=user,
        ctx=ctx,
    )


@router.post(
    "/{appointment_id}/reschedule",
    response_model=AppointmentOut,
    dependencies=[require_roles(*STAFF)],
)
async def reschedule(
    appointment_id: int,
    reschedule_in: RescheduleIn,
    session: SessionDep,
    user: CurrentUser,
    ctx: BookingContextDep,
) -> Any:
    return await appointments_service.reschedule(
        session=session,
        appointment_id=appointment_id,
        reschedule_in=reschedule_in,
        actor=user,
        ctx=ctx,
    )


@router.post(
    "/{appointment_id}/status",
    response_model=AppointmentOut,
    dependencies=[require_roles(*STAFF, Role.practitioner)],
)
async def change_status(
    appointment_id: int,
    status_in: StatusIn,
    session: SessionDep,
    user: CurrentUser,
    ctx: BookingContextDep,
) -> Any:
    return await appointments_service.set_outcome(
        session=session, appointment_id=appointment_id, status=status_in.status, actor=user, ctx=ctx
    )
