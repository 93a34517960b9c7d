"""Arrangements for the GP tests: requests and bookings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from app.accounts.models import User
from app.appointments import service as appointments_service
from app.appointments.models import Origin
from app.appointments.schemas import BookingIn
from app.core.timeutil import PARIS, at
from tests.factories import make_patient

__all__ = ["book", "book_sas", "local", "new_request"]


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return at(day, dt.time(hour, minute), PARIS)


async def new_request(client, world, db, reason: str = "Fièvre", **patient: Any) -> tuple[Any, int]:
    person = await make_patient(db, **patient)
    response = await client.post(
        "/api/requests",
        json={"patient_id": person.id, "reason": reason, "urgency": "within_48h"},
        headers=world.secretary,
    )
    assert response.status_code == 201, response.text
    return person, response.json()["request"]["id"]


async def book(
    client,
    world,
    request_id: int,
    practitioner_id: int,
    start: dt.datetime,
    kind: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "request_id": request_id,
        "practitioner_id": practitioner_id,
        "start_at": start.isoformat(),
    }
    if kind:
        body["kind"] = kind
    response = await client.post("/api/appointments", json=body, headers=world.secretary)
    assert response.status_code == 201, response.text
    return response.json()


async def book_sas(app, db, request_id: int, practitioner_id: int, start: dt.datetime) -> int:
    """A booking that came from the SAS (origin sas, referral time = now)."""
    actor = await db.scalar(select(User).where(User.username == "secretaire"))
    ctx = appointments_service.BookingContext(
        now=app.state.clock(),
        listeners=tuple(app.state.appointment_listeners),
        tariffs=app.state.tariffs,
        video=app.state.video,
    )
    appointment = await appointments_service.book(
        session=db,
        booking_in=BookingIn(
            request_id=request_id, practitioner_id=practitioner_id, start_at=start
        ),
        actor=actor,
        ctx=ctx,
        origin=Origin.sas,
    )
    await db.commit()
    return appointment.id
