"""The batch "Proposer des médecins traitants": database rows in, the pure matching, rows out."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.appointments.models import Appointment, AppointmentStatus
from app.audit import service as audit_service
from app.core.timeutil import PARIS
from app.orientation import gps as gps_service
from app.orientation import matching
from app.orientation.models import (
    WAITING_STATUSES,
    CaseStatus,
    Consent,
    OrientationBatch,
    OrientationCase,
    Route,
)
from app.orientation.service import _refused_keys, _set_proposal, _transition, vulnerability
from app.patients.models import Patient


async def _history(session: AsyncSession, patient_ids: Sequence[int]) -> dict[int, set[str]]:
    """Titulars each patient was seen by (an adjoint's patient counts for their titular)."""
    rows = (
        await session.execute(
            select(
                Appointment.patient_id,
                func.coalesce(Appointment.billed_under_id, Appointment.practitioner_id),
            )
            .where(
                Appointment.patient_id.in_(patient_ids),
                Appointment.status == AppointmentStatus.fulfilled,
            )
            .distinct()
        )
    ).all()
    history: dict[int, set[str]] = {}
    for patient_id, practitioner_id in rows:
        history.setdefault(patient_id, set()).add(f"p:{practitioner_id}")
    return history


async def propose_batch(
    *,
    session: AsyncSession,
    actor: User,
    now: dt.datetime,
    params: matching.MatchParameters | None = None,
) -> tuple[OrientationBatch, list[tuple[int, str, str]]]:
    """ "Proposer des médecins traitants": one assignment for every waiting patient.

    Returns the stored batch and, for each case left without a proposal, its reason.
    """
    rows = (
        await session.execute(
            select(OrientationCase, Patient)
            .join(Patient, Patient.id == OrientationCase.patient_id)
            .where(
                OrientationCase.status.in_(WAITING_STATUSES),
                # PASS/CCAS cases are followed by hand: no médecin traitant to propose yet.
                OrientationCase.route == Route.medecin_traitant,
            )
            .order_by(OrientationCase.id)
            .with_for_update(of=OrientationCase)
        )
    ).all()
    today = now.astimezone(PARIS).date()
    ready = [(c, p) for c, p in rows if c.consent == Consent.given]
    unmatched: list[tuple[int, str, str]] = [
        (c.id, "Consentement du patient à l'orientation à recueillir.", "consent_unknown")
        for c, _ in rows
        if c.consent != Consent.given
    ]
    gps = [g for g in await gps_service.available_gps(session=session, now=now) if g.remaining > 0]
    history = await _history(session, [p.id for _, p in ready])
    refused = await _refused_keys(session, [c.id for c, _ in ready])
    waiting = [
        matching.WaitingPatient(
            id=c.id,
            latitude=p.latitude,
            longitude=p.longitude,
            vulnerable=bool(vulnerability(p, today)),
            waiting_days=max(0, (now - c.entered_at).days),
            language=p.language,
            commune_insee=p.commune_insee,
            history_gp_ids=frozenset(history.get(p.id, set())),
            refused_gp_ids=frozenset(refused.get(c.id, set())),
        )
        for c, p in ready
    ]
    available = [
        matching.AvailableGP(
            id=g.key,
            latitude=g.latitude,
            longitude=g.longitude,
            capacity=g.remaining,
            languages=g.languages,
            communes=g.communes,
            label=g.name,
        )
        for g in gps
    ]
    # The solver is CPU work: keep it off the event loop.
    result = await asyncio.to_thread(matching.match, waiting, available, params)
    cases = {c.id: c for c, _ in rows}
    batch = OrientationBatch(
        run_at=now,
        run_by_id=actor.id,
        waiting=len(rows),
        proposed=len(result.matches),
        unmatched=len(rows) - len(result.matches),
        capacity_total=result.capacity_total,
        solve_ms=int(result.solve_seconds * 1000),
    )
    session.add(batch)
    await session.flush()
    for m in result.matches:
        case = cases[m.patient_id]
        _set_proposal(
            case,
            m.gp_id,
            now,
            batch_id=batch.id,
            travel=round(m.travel_minutes, 1),
            explanation=m.explain()[:300],
        )
        await _transition(
            session=session,
            case=case,
            to=CaseStatus.proposed,
            actor=actor,
            now=now,
            note=f"Lot n°{batch.id}",
            action="orientation_propose",
        )
    for u in result.unmatched:
        unmatched.append((u.patient_id, u.reason, u.code))
    for case_id, reason, _code in unmatched:
        cases[case_id].unmatched_reason = reason[:300]
    summary: dict[str, int] = {}
    for _, _, code in unmatched:
        summary[code] = summary.get(code, 0) + 1
    batch.summary = summary
    await session.flush()
    await audit_service.record(
        session=session,
        actor=actor,
        action="orientation_batch",
        entity_type="orientation_batch",
        entity_id=batch.id,
        detail={"proposed": batch.proposed, "unmatched": batch.unmatched},
    )
    return batch, sorted(unmatched)
