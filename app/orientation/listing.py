"""Reading the orientation list: what the secretariat sees of each case (every read traced)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.audit import service as audit_service
from app.core.timeutil import PARIS
from app.orientation.gps import gp_key
from app.orientation.models import (
    STATUS_LABELS,
    CaseStatus,
    OrientationCase,
    OrientationEvent,
    TerritoryGP,
)
from app.orientation.schemas import CaseOut
from app.orientation.service import get_case, vulnerability
from app.patients.models import Patient
from app.practitioners.models import Practitioner


async def _gp_names(session: AsyncSession, cases: Sequence[OrientationCase]) -> dict[str, str]:
    p_ids = {c.practitioner_id for c in cases if c.practitioner_id}
    t_ids = {c.territory_gp_id for c in cases if c.territory_gp_id}
    names: dict[str, str] = {}
    if p_ids:
        for p in await session.scalars(select(Practitioner).where(Practitioner.id.in_(p_ids))):
            names[f"p:{p.id}"] = p.display_name
    if t_ids:
        for t in await session.scalars(select(TerritoryGP).where(TerritoryGP.id.in_(t_ids))):
            names[f"t:{t.id}"] = t.display_name
    return names


def _case_out(
    case: OrientationCase, patient: Patient, names: dict[str, str], now: dt.datetime
) -> CaseOut:
    has_gp = case.practitioner_id is not None or case.territory_gp_id is not None
    key = gp_key(practitioner_id=case.practitioner_id, territory_gp_id=case.territory_gp_id)
    return CaseOut(
        id=case.id,
        patient_id=patient.id,
        patient_name=patient.display_name,
        patient_phone=patient.phone,
        commune=patient.commune,
        commune_insee=patient.commune_insee,
        language=patient.language,
        vulnerability=vulnerability(patient, now.astimezone(PARIS).date()),
        route=case.route,
        status=case.status,
        status_label=STATUS_LABELS[case.status],
        consent=case.consent,
        entered_at=case.entered_at,
        waiting_days=max(0, (now - case.entered_at).days),
        proposed_gp=names.get(key) if has_gp else None,
        proposed_gp_kind=("platform" if case.practitioner_id else "territory") if has_gp else None,
        proposed_gp_id=(case.practitioner_id or case.territory_gp_id) if has_gp else None,
        proposed_at=case.proposed_at,
        proposal_explanation=case.proposal_explanation,
        unmatched_reason=case.unmatched_reason,
        close_reason=case.close_reason,
        status_changed_at=case.status_changed_at,
    )


async def list_cases(
    *,
    session: AsyncSession,
    actor: User,
    now: dt.datetime,
    status: CaseStatus | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[CaseOut]:
    """The orientation list for the secretariat (each patient shown is traced)."""
    stmt = select(OrientationCase, Patient).join(Patient, Patient.id == OrientationCase.patient_id)
    if status is not None:
        stmt = stmt.where(OrientationCase.status == status)
    stmt = stmt.order_by(OrientationCase.entered_at, OrientationCase.id).limit(limit).offset(offset)
    rows = (await session.execute(stmt)).all()
    names = await _gp_names(session, [c for c, _ in rows])
    out = []
    for case, patient in rows:
        out.append(_case_out(case, patient, names, now))
        await audit_service.record(
            session=session,
            actor=actor,
            action="read",
            entity_type="orientation_case",
            entity_id=case.id,
            patient_id=patient.id,
        )
    return out


async def read_case(
    *, session: AsyncSession, case_id: int, actor: User, now: dt.datetime
) -> tuple[CaseOut, Sequence[OrientationEvent]]:
    case = await get_case(session=session, case_id=case_id)
    patient = await session.get(Patient, case.patient_id)
    assert patient is not None
    await audit_service.record(
        session=session,
        actor=actor,
        action="read",
        entity_type="orientation_case",
        entity_id=case.id,
        patient_id=patient.id,
    )
    events = (
        await session.scalars(
            select(OrientationEvent)
            .where(OrientationEvent.case_id == case.id)
            .order_by(OrientationEvent.at, OrientationEvent.id)
        )
    ).all()
    return _case_out(case, patient, await _gp_names(session, [case]), now), events


async def case_out(*, session: AsyncSession, case: OrientationCase, now: dt.datetime) -> CaseOut:
    patient = await session.get(Patient, case.patient_id)
    assert patient is not None
    return _case_out(case, patient, await _gp_names(session, [case]), now)


async def case_for_patient(
    *, session: AsyncSession, patient_id: int, now: dt.datetime
) -> CaseOut | None:
    """The patient's orientation case (one per patient), or None when never entered."""
    case = await session.scalar(
        select(OrientationCase).where(OrientationCase.patient_id == patient_id)
    )
    return None if case is None else await case_out(session=session, case=case, now=now)
