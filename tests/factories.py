"""Small factories that arrange data through the services, with overrides."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum import luhn

from app.accounts import service as accounts_service
from app.accounts.models import Role, User
from app.patients.models import Patient
from app.patients.service import search_key
from app.practitioners import service as practitioners_service
from app.practitioners.models import Practitioner, PractitionerStatus, SessionKind
from app.practitioners.schemas import PractitionerIn, SessionTemplateIn
from app.territory import service as territory

PASSWORD = "motdepasse-de-test"
_counter = {"rpps": 0}


def fake_rpps() -> str:
    _counter["rpps"] += 1
    body = f"991100{_counter['rpps'] % 10_000:04d}"  # 10 digits + Luhn: always 11
    return body + luhn.calc_check_digit(body)


async def make_user(session: AsyncSession, username: str, role: Role, **overrides: Any) -> User:
    user = await accounts_service.create(
        session=session, username=username, password=PASSWORD, role=role, **overrides
    )
    await session.commit()
    return user


async def make_practitioner(session: AsyncSession, **overrides: Any) -> Practitioner:
    commune = await territory.find_commune(session, insee=overrides.pop("commune_insee", "94016"))
    assert commune is not None
    data: dict[str, Any] = dict(
        family_name="Martin",
        given_name="Claire",
        rpps=fake_rpps(),
        status=PractitionerStatus.titular,
        address="12 avenue de l'Exemple",
        postal_code=commune.postal_code,
        commune=commune.name,
        commune_insee=commune.insee,
        latitude=commune.latitude,
        longitude=commune.longitude,
        languages=["fr"],
        max_visits_per_morning=6,
    )
    data.update(overrides)
    practitioner = await practitioners_service.create(
        session=session, practitioner_in=PractitionerIn(**data)
    )
    await session.commit()
    return practitioner


async def add_week(
    session: AsyncSession,
    practitioner: Practitioner,
    today: dt.date,
    *,
    weekdays: range | list[int] = range(6),
    kinds: tuple[SessionKind, ...] = (
        SessionKind.home_visit,
        SessionKind.teleconsultation,
    ),
    capacity: int | None = None,
    open_to_sas: bool = True,
    horizon_days: int = 14,
) -> None:
    hours = {
        SessionKind.home_visit: (dt.time(10), dt.time(13)),
        SessionKind.teleconsultation: (dt.time(14), dt.time(20)),
        SessionKind.practice: (dt.time(8), dt.time(10)),
    }
    for weekday in weekdays:
        for kind in kinds:
            start, end = hours[kind]
            await practitioners_service.add_template(
                session=session,
                practitioner=practitioner,
                template_in=SessionTemplateIn(
                    weekday=weekday,
                    kind=kind,
                    start_time=start,
                    end_time=end,
                    capacity=capacity,
                    open_to_sas=open_to_sas and kind == SessionKind.teleconsultation,
                    valid_from=today,
                ),
                today=today,
                horizon_days=-1,
            )
    await practitioners_service.materialise(
        session=session, start=today, end=today + dt.timedelta(days=horizon_days)
    )
    await session.commit()


async def make_patient(session: AsyncSession, **overrides: Any) -> Patient:
    data: dict[str, Any] = dict(
        family_name="Dupont",
        given_name="Jeanne",
        birth_date=dt.date(1980, 5, 17),
        sex="female",
        phone="+33639980001",
        address="5 rue Fictive",
        postal_code="94230",
        commune="Cachan",
        commune_insee="94016",
        latitude=48.7914,
        longitude=2.3336,
        medecin_traitant_status="none",
        language="fr",
        sms_consent=True,
    )
    data.update(overrides)
    patient = Patient(**data, search_name=search_key(data["family_name"], data["given_name"]))
    session.add(patient)
    await session.commit()
    return patient


async def token(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> dict[str, str]:
    response = await client.post(
        "/api/auth/token", data={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@dataclass
class World:
    """A small roster: two titulars, an adjoint of the first, and one account per role."""

    titular: Practitioner
    other_titular: Practitioner
    adjoint: Practitioner
    secretary: dict[str, str]
    coordinator: dict[str, str]
    regulator: dict[str, str]
    gp: dict[str, str]
    other_gp: dict[str, str]
    adjoint_gp: dict[str, str]
    today: dt.date
