"""GPs who can become médecin traitant: platform titulars and territory GPs, with capacity."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.audit import service as audit_service
from app.core.errors import Conflict, NotFound
from app.core.timeutil import PARIS
from app.orientation.models import HOLDING_STATUSES, OrientationCase, TerritoryGP
from app.orientation.schemas import TerritoryGPIn, TerritoryGPUpdate
from app.practitioners.models import OWN_NAME_STATUSES, Practitioner


def month_start(now: dt.datetime) -> dt.datetime:
    local = now.astimezone(PARIS)
    return dt.datetime(local.year, local.month, 1, tzinfo=PARIS)


def gp_key(*, practitioner_id: int | None, territory_gp_id: int | None) -> str:
    return f"p:{practitioner_id}" if practitioner_id is not None else f"t:{territory_gp_id}"


@dataclass(frozen=True)
class GPCapacity:
    key: str
    kind: str
    id: int
    name: str
    commune: str
    latitude: float
    longitude: float
    capacity: int
    remaining: int
    languages: frozenset[str]
    communes: frozenset[str]
    phone: str | None


async def available_gps(*, session: AsyncSession, now: dt.datetime) -> list[GPCapacity]:
    """Titulars and territory GPs accepting new patients, with room left this month.

    Adjoints are never here (they practise under the titular's name); titulars and
    collaborateurs libéraux (own name, ``OWN_NAME_STATUSES``) may be médecin traitant.
    """
    held_rows = (
        await session.execute(
            select(
                OrientationCase.practitioner_id,
                OrientationCase.territory_gp_id,
                func.count(OrientationCase.id),
            )
            .where(
                OrientationCase.status.in_(HOLDING_STATUSES),
                OrientationCase.proposed_at >= month_start(now),
            )
            .group_by(OrientationCase.practitioner_id, OrientationCase.territory_gp_id)
        )
    ).all()
    held = {gp_key(practitioner_id=p, territory_gp_id=t): n for p, t, n in held_rows}
    out: list[GPCapacity] = []
    titulars = await session.scalars(
        select(Practitioner)
        .where(
            Practitioner.status.in_(OWN_NAME_STATUSES),
            Practitioner.active.is_(True),
            Practitioner.accepts_new_patients.is_(True),
        )
        .order_by(Practitioner.id)
    )
    for p in titulars:
        key = f"p:{p.id}"
        out.append(
            GPCapacity(
                key,
                "platform",
                p.id,
                p.display_name,
                p.commune,
                p.latitude,
                p.longitude,
                p.new_patient_capacity,
                p.new_patient_capacity - held.get(key, 0),
                frozenset(p.languages or ["fr"]),
                frozenset(),
                p.phone,
            )
        )
    territory = await session.scalars(
        select(TerritoryGP)
        .where(TerritoryGP.active.is_(True), TerritoryGP.accepts_new_patients.is_(True))
        .order_by(TerritoryGP.id)
    )
    for t in territory:
        key = f"t:{t.id}"
        out.append(
            GPCapacity(
                key,
                "territory",
                t.id,
                t.display_name,
                t.commune,
                t.latitude,
                t.longitude,
                t.monthly_capacity,
                t.monthly_capacity - held.get(key, 0),
                frozenset(t.languages or ["fr"]),
                frozenset(t.communes_covered or []),
                t.phone,
            )
        )
    return out


async def create_territory_gp(
    *, session: AsyncSession, gp_in: TerritoryGPIn, actor: User
) -> TerritoryGP:
    if await session.scalar(select(TerritoryGP.id).where(TerritoryGP.rpps == gp_in.rpps)):
        raise Conflict("Un médecin avec ce numéro RPPS est déjà enregistré.", field="rpps")
    if await session.scalar(select(Practitioner.id).where(Practitioner.rpps == gp_in.rpps)):
        raise Conflict(
            "Ce médecin fait partie de la plateforme : réglez sa capacité dans sa fiche.",
            field="rpps",
        )
    gp = TerritoryGP(**gp_in.model_dump())
    session.add(gp)
    await session.flush()
    await audit_service.record(
        session=session, actor=actor, action="create", entity_type="territory_gp", entity_id=gp.id
    )
    return gp


async def list_territory_gps(*, session: AsyncSession) -> Sequence[TerritoryGP]:
    return (await session.scalars(select(TerritoryGP).order_by(TerritoryGP.id))).all()


async def update_territory_gp(
    *, session: AsyncSession, gp_id: int, gp_update: TerritoryGPUpdate, actor: User
) -> TerritoryGP:
    gp = await session.get(TerritoryGP, gp_id)
    if gp is None:
        raise NotFound(f"Médecin du territoire n°{gp_id} introuvable.")
    changes = gp_update.model_dump(exclude_unset=True)
    for key, value in changes.items():
        setattr(gp, key, value)
    await session.flush()
    await audit_service.record(
        session=session,
        actor=actor,
        action="update",
        entity_type="territory_gp",
        entity_id=gp.id,
        detail={"fields": sorted(changes)},
    )
    return gp
