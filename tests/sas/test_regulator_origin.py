"""The "regulators book only from the SAS page" rule is the booking call's `origin`, checked
with the other rules (no listener veto, no context variable)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from app.accounts.models import User
from app.appointments import service as appointments_service
from app.appointments.models import Appointment, Origin
from app.appointments.schemas import BookingIn
from app.core.errors import Forbidden
from app.core.timeutil import PARIS
from app.patients import service as patients_service
from app.patients.schemas import PatientIn
from app.requests import service as requests_service
from app.requests.schemas import RequestIn
from tests.sas.world import context, local, regulator, sas_gp


async def _request(db, actor: User, now: dt.datetime) -> int:
    patient = await patients_service.create(
        session=db,
        patient_in=PatientIn(family_name="Sas", given_name="Alix", birth_date=dt.date(1990, 2, 3)),
        actor=actor,
    )
    care_request, _ = await requests_service.create(
        session=db, request_in=RequestIn(patient_id=patient.id, reason="SAS"), actor=actor, now=now
    )
    return care_request.id


async def test_the_origin_decides_a_regulator_booking(app, db, clock):
    today = clock().astimezone(PARIS).date()
    gp = await sas_gp(db, today)
    actor = await regulator(db)
    ctx = context(app)
    assert ctx.regulators_book_only_from_sas  # the rule is on by default

    async def book(start: dt.datetime, **kwargs) -> Appointment:
        request_id = await _request(db, actor, clock())
        return await appointments_service.book(
            session=db,
            booking_in=BookingIn(request_id=request_id, practitioner_id=gp.id, start_at=start),
            actor=actor,
            **kwargs,
        )

    with pytest.raises(Forbidden):
        await book(local(today, 15), ctx=ctx)
    with pytest.raises(Forbidden):
        await book(local(today, 15), ctx=ctx, origin=Origin.secretariat)
    booked = await book(local(today, 15), ctx=ctx, origin=Origin.sas)
    assert booked.origin == Origin.sas and booked.sas_regulator_id == actor.id
    # A CPTS that lets its regulators book elsewhere: the booking is still a SAS one.
    relaxed = dataclasses.replace(ctx, regulators_book_only_from_sas=False)
    elsewhere = await book(local(today, 16), ctx=relaxed)
    assert elsewhere.origin == Origin.sas
    await db.rollback()
