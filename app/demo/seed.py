"""The Bièvre demo territory: 6 titular and 5 adjoint fictitious GPs, their weeks, demo accounts.

Every name, RPPS, address and phone number here is invented. RPPS numbers use the
`99…` range with a valid Luhn digit so they pass validation without being real.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum import luhn

from app.accounts import service as accounts_service
from app.accounts.models import Role
from app.practitioners import service as practitioners_service
from app.practitioners.models import Practitioner, PractitionerStatus, SessionKind
from app.practitioners.schemas import PractitionerIn, SessionTemplateIn
from app.territory import service as territory

DEMO_PASSWORD = "demo"

# (family, given, commune INSEE, street, languages, offset lat/lon, accepts new patients)
TITULARS = [
    ("Martin", "Claire", "94016", "12 avenue de l'Exemple", ["fr", "en"], (0.002, -0.003), 40),
    ("Bernard", "Karim", "94038", "3 rue Imaginaire", ["fr", "ar"], (-0.002, 0.002), 25),
    ("Petit", "Sophie", "94034", "27 boulevard Fictif", ["fr", "pt"], (0.001, 0.004), 30),
    ("Durand", "Thomas", "94021", "8 place de la Démonstration", ["fr", "es"], (0.002, -0.002), 20),
    ("Leroy", "Amélie", "94065", "1 allée du Modèle", ["fr", "en"], (-0.001, 0.001), 15),
    ("Moreau", "Julien", "94016", "45 rue du Prototype", ["fr"], (-0.003, 0.002), 35),
]
# (family, given, titular family name, languages, offset)
ADJOINTS = [
    ("Garnier", "Inès", "Martin", ["fr", "en"], (0.0025, -0.0035)),
    ("Faure", "Mehdi", "Bernard", ["fr", "ar"], (-0.0015, 0.0025)),
    ("Rousseau", "Léa", "Petit", ["fr"], (0.0015, 0.0035)),
    ("Blanc", "Hugo", "Durand", ["fr", "es"], (0.0025, -0.0015)),
    ("Guérin", "Nadia", "Moreau", ["fr", "ar"], (-0.0025, 0.0015)),
]


def fictitious_rpps(n: int) -> str:
    body = f"9900000{n:03d}"
    return body + luhn.calc_check_digit(body)


def username_for(family_name: str) -> str:
    from app.core.identifiers import fold

    return "dr." + fold(family_name).replace(" ", "-")


async def seed(*, session: AsyncSession, today: dt.date, horizon_days: int = 56) -> bool:
    """Create the demo territory once; returns False when it is already there."""
    if await session.scalar(select(func.count(Practitioner.id))):
        return False
    if not await territory.has_territory(session):
        # The demo GPs practise in the Bièvre communes: load them unless a territory is there.
        await territory.import_territory(
            session=session, data=territory.read_file(territory.DEMO_TERRITORY_FILE)
        )
    communes = await territory.communes(session)
    titulars: dict[str, Practitioner] = {}
    number = 1
    for family, given, insee, street, languages, (dlat, dlon), capacity in TITULARS:
        commune = communes.find(insee=insee)
        if commune is None:
            raise RuntimeError(
                f"La démo suppose le territoire de la Bièvre : commune {insee} absente du "
                "territoire importé."
            )
        practitioner = await practitioners_service.create(
            session=session,
            practitioner_in=PractitionerIn(
                family_name=family,
                given_name=given,
                rpps=fictitious_rpps(number),
                status=PractitionerStatus.titular,
                address=street,
                postal_code=commune.postal_code,
                commune=commune.name,
                commune_insee=commune.insee,
                latitude=commune.latitude + dlat,
                longitude=commune.longitude + dlon,
                languages=languages,
                accepts_new_patients=True,
                new_patient_capacity=capacity,
                max_visits_per_morning=6,
                teleconsultation_slot_minutes=15,
            ),
        )
        titulars[family] = practitioner
        number += 1
    adjoints = []
    for family, given, titular_name, languages, (dlat, dlon) in ADJOINTS:
        titular = titulars[titular_name]
        number += 1
        adjoints.append(
            await practitioners_service.create(
                session=session,
                practitioner_in=PractitionerIn(
                    family_name=family,
                    given_name=given,
                    rpps=fictitious_rpps(number),
                    status=PractitionerStatus.adjoint,
                    titular_id=titular.id,
                    authorisation_start=today - dt.timedelta(days=30),
                    authorisation_end=today + dt.timedelta(days=365),
                    address=titular.address,
                    postal_code=titular.postal_code,
                    commune=titular.commune,
                    commune_insee=titular.commune_insee,
                    latitude=titular.latitude + dlat,
                    longitude=titular.longitude + dlon,
                    languages=languages,
                    max_visits_per_morning=5,
                    teleconsultation_slot_minutes=20 if family == "Rousseau" else 15,
                ),
            )
        )
    # The seed's hours: home visits Mon–Sat 10:00–13:00, teleconsultations Mon–Sat 14:00–20:00.
    for practitioner in [*titulars.values(), *adjoints]:
        for weekday in range(6):
            for kind, start, end in (
                (SessionKind.home_visit, dt.time(10), dt.time(13)),
                (SessionKind.teleconsultation, dt.time(14), dt.time(20)),
            ):
                await practitioners_service.add_template(
                    session=session,
                    practitioner=practitioner,
                    template_in=SessionTemplateIn(
                        weekday=weekday,
                        kind=kind,
                        start_time=start,
                        end_time=end,
                        open_to_sas=kind == SessionKind.teleconsultation,
                        valid_from=today,
                    ),
                    today=today,
                    horizon_days=0,
                )
    await practitioners_service.materialise(
        session=session, start=today, end=today + dt.timedelta(days=horizon_days)
    )
    for username, role, full_name in (
        ("secretaire", Role.secretary, "Secrétariat de la plateforme"),
        ("coordination", Role.coordinator, "Coordination de la CPTS"),
        ("regulateur", Role.regulator, "Régulateur SAS (démo)"),
    ):
        await accounts_service.create(
            session=session,
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            full_name=full_name,
            demo_only=True,
        )
    for practitioner in [*titulars.values(), *adjoints]:
        await accounts_service.create(
            session=session,
            username=username_for(practitioner.family_name),
            password=DEMO_PASSWORD,
            role=Role.practitioner,
            full_name=practitioner.display_name,
            practitioner_id=practitioner.id,
            demo_only=True,
        )
    return True
