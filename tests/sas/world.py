"""Arranging SAS scenarios: GPs with SAS sessions, a regulator, bookings through the services."""

from __future__ import annotations

import datetime as dt
import re

import httpx

from app.accounts.models import Role, User
from app.appointments.service import BookingContext
from app.core.timeutil import PARIS
from app.practitioners.models import Practitioner, SessionKind
from app.sas import service as sas_service
from tests.factories import PASSWORD, add_week, make_practitioner, make_user

REGULATOR_IDNPS = "810002673899"


async def sas_gp(db, today: dt.date, *, open_to_sas: bool = True, **overrides) -> Practitioner:
    """A GP with teleconsultations 14:00–20:00 (Mon–Sat), open to the SAS or not."""
    practitioner = await make_practitioner(db, **overrides)
    await add_week(
        db,
        practitioner,
        today,
        kinds=(SessionKind.teleconsultation,),
        open_to_sas=open_to_sas,
        horizon_days=7,
    )
    return practitioner


async def regulator(
    db,
    username: str = "regul.sas",
    *,
    national_id: str | None = REGULATOR_IDNPS,
    technical_id: str | None = None,
) -> User:
    """A regulator account as INT_R02 would leave it, with a known password for the UI."""
    user = await make_user(db, username, Role.regulator)
    user.national_id, user.sas_technical_id = national_id, technical_id
    await db.commit()
    return user


def context(app) -> BookingContext:
    state = app.state
    return BookingContext(
        now=state.clock(),
        listeners=tuple(state.appointment_listeners),
        teleconsultation_minutes=state.settings.teleconsultation_slot_minutes,
        home_visit_window_minutes=state.settings.arrival_window_minutes,
        tariffs=state.tariffs,
    )


async def book_as_regulator(
    app, regulator_id: int, practitioner_id: int, start: dt.datetime, **patient
) -> int:
    """A regulator's booking through the SAS service path (as the SAS page does)."""
    async with app.state.sessionmaker() as session, session.begin():
        actor = await session.get(User, regulator_id)
        appointment = await sas_service.book_for_regulator(
            session=session,
            actor=actor,
            from_sas=True,
            practitioner_id=practitioner_id,
            kind=SessionKind.teleconsultation,
            start_at=start,
            patient=sas_service.SasPatient(
                family_name=patient.get("family_name", "Durand"),
                given_name=patient.get("given_name", "Alix"),
                birth_date=patient.get("birth_date", dt.date(1990, 2, 3)),
                phone=patient.get("phone"),
                reason="Adressé par le SAS",
            ),
            ctx=context(app),
        )
        return appointment.id


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=PARIS)


async def login(client: httpx.AsyncClient, username: str, next_url: str = "") -> httpx.Response:
    page = await client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf, page.text
    return await client.post(
        "/login",
        data={
            "username": username,
            "password": PASSWORD,
            "csrf_token": csrf.group(1),
            "next": next_url,
        },
    )


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def slot_values(html: str) -> list[str]:
    return re.findall(r'name="slot" value="([^"]+)"', html)
