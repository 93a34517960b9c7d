from __future__ import annotations

import datetime as dt

import pytest

from app.accounts.models import Role
from app.core.timeutil import PARIS
from app.practitioners.models import PractitionerStatus, SessionKind
from tests.factories import World, add_week, make_practitioner, make_user, token


@pytest.fixture
async def world(db, client, clock) -> World:
    today = clock().astimezone(PARIS).date()
    titular = await make_practitioner(db, family_name="Martin", given_name="Claire")
    other = await make_practitioner(
        db, family_name="Bernard", given_name="Karim", commune_insee="94038", languages=["fr", "ar"]
    )
    adjoint = await make_practitioner(
        db,
        family_name="Garnier",
        given_name="Inès",
        status=PractitionerStatus.adjoint,
        titular_id=titular.id,
        authorisation_start=today - dt.timedelta(days=10),
        authorisation_end=today + dt.timedelta(days=60),
    )
    # Titular: Mon–Sat; the adjoint's templates follow the titular's weekdays.
    await add_week(db, titular, today)
    await add_week(db, other, today, kinds=(SessionKind.teleconsultation,), capacity=3)
    await add_week(db, adjoint, today)
    await make_user(db, "secretaire", Role.secretary)
    await make_user(db, "coordination", Role.coordinator)
    await make_user(db, "regulateur", Role.regulator)
    await make_user(db, "dr.martin", Role.practitioner, practitioner_id=titular.id)
    await make_user(db, "dr.bernard", Role.practitioner, practitioner_id=other.id)
    await make_user(db, "dr.garnier", Role.practitioner, practitioner_id=adjoint.id)
    return World(
        titular=titular,
        other_titular=other,
        adjoint=adjoint,
        secretary=await token(client, "secretaire"),
        coordinator=await token(client, "coordination"),
        regulator=await token(client, "regulateur"),
        gp=await token(client, "dr.martin"),
        other_gp=await token(client, "dr.bernard"),
        adjoint_gp=await token(client, "dr.garnier"),
        today=today,
    )
