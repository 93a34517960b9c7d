"""Orientation cases: entry, consent, proposals (one by one or in batch), answers, closing.

"Seen by the platform" means an appointment whose outcome is *fulfilled*: a patient
who only booked (and may cancel or not come) is not yet one of the platform's
patients. The appointment outcome flow calls :func:`enter_patient`; the periodic
:func:`sweep` catches anyone missed and follows declarations made elsewhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.appointments.models import Appointment, AppointmentStatus
from app.audit import service as audit_service
from app.core.errors import Conflict, NotFound
from app.orientation import gps as gps_service
from app.orientation import notifications
from app.orientation.gps import gp_key
from app.orientation.models import (
    CLOSE_REASON_LABELS,
    STATUS_LABELS,
    CaseStatus,
    CloseReason,
    Consent,
    OrientationCase,
    OrientationEvent,
    Route,
    TerritoryGP,
)
from app.patients.models import MedecinTraitantStatus, Patient
from app.practitioners.models import OWN_NAME_STATUSES, Practitioner

ALLOWED: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.to_orient: frozenset({CaseStatus.proposed, CaseStatus.closed}),
    CaseStatus.proposed: frozenset({CaseStatus.accepted, CaseStatus.refused, CaseStatus.closed}),
    CaseStatus.accepted: frozenset({CaseStatus.declared, CaseStatus.refused, CaseStatus.closed}),
    CaseStatus.refused: frozenset({CaseStatus.proposed, CaseStatus.closed}),
    CaseStatus.declared: frozenset(),
    CaseStatus.closed: frozenset(),
}

VULNERABILITY_LABELS = {
    "ald": "ALD",
    "css": "CSS",
    "ame": "AME (orientation PASS/CCAS)",
    "no_coverage": "Sans couverture (orientation PASS/CCAS)",
    "age_70": "70 ans et plus",
    "disability": "Handicap",
    "isolation": "Isolement",
}


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def vulnerability(patient: Patient, today: dt.date) -> list[str]:
    """The vulnerability criteria a patient meets (ALD, CSS, AME, no coverage, 70+,
    disability, isolation)."""
    flags = []
    if patient.ald:
        flags.append("ald")
    if patient.css:
        flags.append("css")
    if patient.ame:
        flags.append("ame")
    if patient.no_coverage:
        flags.append("no_coverage")
    if age_on(patient.birth_date, today) >= 70:
        flags.append("age_70")
    if patient.disability:
        flags.append("disability")
    if patient.isolation:
        flags.append("isolation")
    return flags


# --- transitions -----------------------------------------------------------------------


async def _transition(
    *,
    session: AsyncSession,
    case: OrientationCase,
    to: CaseStatus,
    actor: User | None,
    now: dt.datetime,
    note: str | None = None,
    action: str,
    initial: bool = False,
) -> OrientationEvent:
    """Move a case along its life, recording who and when (event + audit trail)."""
    previous = None if initial else case.status
    if previous is not None and to not in ALLOWED[previous]:
        raise Conflict(
            f"Passage impossible de « {STATUS_LABELS[previous]} » à « {STATUS_LABELS[to]} ».",
            code="invalid_transition",
        )
    case.status = to
    case.status_changed_at = now
    case.status_changed_by_id = actor.id if actor else None
    event = OrientationEvent(
        case_id=case.id,
        at=now,
        actor_id=actor.id if actor else None,
        actor_name=actor.username if actor else "system",
        from_status=str(previous) if previous else None,
        to_status=str(to),
        practitioner_id=case.practitioner_id,
        territory_gp_id=case.territory_gp_id,
        note=note,
    )
    session.add(event)
    await session.flush()
    await audit_service.record(
        session=session,
        actor=actor,
        action=action,
        entity_type="orientation_case",
        entity_id=case.id,
        patient_id=case.patient_id,
        detail={"from": str(previous) if previous else None, "to": str(to)},
    )
    return event


async def enter_patient(
    *,
    session: AsyncSession,
    patient_id: int,
    actor: User | None,
    now: dt.datetime,
    consent: bool | None = None,
    source: str = "appointment",
) -> OrientationCase | None:
    """Put a patient seen without médecin traitant on the orientation list (idempotent).

    Returns the case (new or existing), or None when the patient has a médecin traitant
    or an unknown status: only a patient confirmed without one (status ``none``) enters;
    the status is asked at the first contact (secretariat form, SAS page, GP outcome).
    AME holders and patients without coverage enter on the PASS/CCAS route.
    """
    patient = await session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"Patient n°{patient_id} introuvable.")
    existing = await session.scalar(
        select(OrientationCase).where(OrientationCase.patient_id == patient_id)
    )
    if existing is not None:
        if consent is not None and existing.consent == Consent.unknown:
            await record_consent(
                session=session, case=existing, given=consent, actor=actor, now=now
            )
        return existing
    if patient.medecin_traitant_status != MedecinTraitantStatus.none:
        return None
    route = Route.pass_ccas if (patient.ame or patient.no_coverage) else Route.medecin_traitant
    case = OrientationCase(
        patient_id=patient_id,
        status=CaseStatus.to_orient,
        entered_at=now,
        route=route,
        source=source[:60],
        consent=Consent.unknown,
        status_changed_at=now,
    )
    session.add(case)
    await session.flush()
    await _transition(
        session=session,
        case=case,
        to=CaseStatus.to_orient,
        actor=actor,
        now=now,
        note=f"Entrée dans la liste ({source})"
        + (" — orientation PASS/CCAS (AME ou sans couverture)" if route == Route.pass_ccas else ""),
        action="orientation_enter",
        initial=True,
    )
    if consent is not None:
        await record_consent(session=session, case=case, given=consent, actor=actor, now=now)
    return case


async def sweep(*, session: AsyncSession, now: dt.datetime) -> dict[str, int]:
    """Enter every patient seen without médecin traitant; follow declarations made elsewhere."""
    seen = (
        select(Appointment.patient_id)
        .where(Appointment.status == AppointmentStatus.fulfilled)
        .distinct()
    )
    missing = (
        await session.scalars(
            select(Patient.id)
            .where(
                Patient.id.in_(seen),
                Patient.medecin_traitant_status == MedecinTraitantStatus.none,
                ~Patient.id.in_(select(OrientationCase.patient_id)),
            )
            .order_by(Patient.id)
        )
    ).all()
    for patient_id in missing:
        await enter_patient(
            session=session, patient_id=patient_id, actor=None, now=now, source="sweep"
        )
    open_cases = (
        await session.execute(
            select(OrientationCase, Patient.medecin_traitant_name)
            .join(Patient, Patient.id == OrientationCase.patient_id)
            .where(
                OrientationCase.status.notin_((CaseStatus.declared, CaseStatus.closed)),
                Patient.medecin_traitant_status == MedecinTraitantStatus.declared,
            )
        )
    ).all()
    for case, name in open_cases:
        if case.status == CaseStatus.accepted:
            case.declared_at = now
            await _transition(
                session=session,
                case=case,
                to=CaseStatus.declared,
                actor=None,
                now=now,
                note="Déclaration constatée dans le dossier patient",
                action="orientation_declare",
            )
        else:
            case.closed_at = now
            case.close_reason = CloseReason.declared_elsewhere
            case.close_note = name
            await _transition(
                session=session,
                case=case,
                to=CaseStatus.closed,
                actor=None,
                now=now,
                note=CLOSE_REASON_LABELS[CloseReason.declared_elsewhere],
                action="orientation_close",
            )
    return {"entered": len(missing), "followed": len(open_cases)}


async def run_sweep(app) -> None:  # noqa: ANN001 - the FastAPI app (periodic job signature)
    """Periodic job: the sweep in its own unit of work."""
    async with app.state.sessionmaker() as session:
        await sweep(session=session, now=app.state.clock())
        await session.commit()


# --- reading -----------------------------------------------------------------------------


async def get_case(*, session: AsyncSession, case_id: int, lock: bool = False) -> OrientationCase:
    stmt = select(OrientationCase).where(OrientationCase.id == case_id)
    if lock:
        stmt = stmt.with_for_update()
    case = await session.scalar(stmt)
    if case is None:
        raise NotFound(f"Dossier d'orientation n°{case_id} introuvable.")
    return case


# --- consent, answers, declaration, closing ---------------------------------------------


async def record_consent(
    *,
    session: AsyncSession,
    case: OrientationCase,
    given: bool,
    actor: User | None,
    now: dt.datetime,
) -> OrientationCase:
    """The patient agrees (or not) to be oriented and to have their contact passed to a GP."""
    if case.status in (CaseStatus.declared, CaseStatus.closed):
        raise Conflict("Ce dossier est terminé.")
    case.consent = Consent.given if given else Consent.refused
    case.consent_at = now
    case.consent_by_id = actor.id if actor else None
    await session.flush()
    await audit_service.record(
        session=session,
        actor=actor,
        action="orientation_consent",
        entity_type="orientation_case",
        entity_id=case.id,
        patient_id=case.patient_id,
        detail={"consent": str(case.consent)},
    )
    if not given:
        await close(
            session=session,
            case=case,
            reason=CloseReason.consent_refused,
            note=None,
            actor=actor,
            now=now,
        )
    return case


async def _gp_row(
    session: AsyncSession, *, practitioner_id: int | None, territory_gp_id: int | None
) -> Practitioner | TerritoryGP:
    if practitioner_id is not None:
        p = await session.get(Practitioner, practitioner_id)
        if p is None:
            raise NotFound(f"Médecin n°{practitioner_id} introuvable.")
        if p.status not in OWN_NAME_STATUSES:
            raise Conflict(
                "Un médecin adjoint ne peut pas être proposé comme médecin traitant.",
                code="adjoint_not_medecin_traitant",
            )
        if not p.active or not p.accepts_new_patients:
            raise Conflict("Ce médecin n'accepte pas de nouveaux patients.")
        return p
    t = await session.get(TerritoryGP, territory_gp_id)
    if t is None:
        raise NotFound(f"Médecin du territoire n°{territory_gp_id} introuvable.")
    if not t.active or not t.accepts_new_patients:
        raise Conflict("Ce médecin n'accepte pas de nouveaux patients.")
    return t


async def _refused_keys(session: AsyncSession, case_ids: Sequence[int]) -> dict[int, set[str]]:
    rows = (
        await session.execute(
            select(
                OrientationEvent.case_id,
                OrientationEvent.practitioner_id,
                OrientationEvent.territory_gp_id,
            ).where(
                OrientationEvent.to_status == str(CaseStatus.refused),
                OrientationEvent.case_id.in_(case_ids),
            )
        )
    ).all()
    refused: dict[int, set[str]] = {}
    for case_id, p_id, t_id in rows:
        refused.setdefault(case_id, set()).add(gp_key(practitioner_id=p_id, territory_gp_id=t_id))
    return refused


async def propose(
    *,
    session: AsyncSession,
    case_id: int,
    practitioner_id: int | None,
    territory_gp_id: int | None,
    actor: User,
    now: dt.datetime,
) -> OrientationCase:
    """Propose one GP by hand (capacity, adjoint and refusal rules as in the batch)."""
    case = await get_case(session=session, case_id=case_id, lock=True)
    if case.consent != Consent.given:
        raise Conflict(
            "Recueillez d'abord le consentement du patient à être orienté.", code="no_consent"
        )
    gp = await _gp_row(session, practitioner_id=practitioner_id, territory_gp_id=territory_gp_id)
    key = gp_key(practitioner_id=practitioner_id, territory_gp_id=territory_gp_id)
    if key in (await _refused_keys(session, [case.id])).get(case.id, set()):
        raise Conflict("Le patient a déjà refusé ce médecin.", code="already_refused")
    capacities = {g.key: g for g in await gps_service.available_gps(session=session, now=now)}
    if key not in capacities or capacities[key].remaining <= 0:
        raise Conflict(
            f"{gp.display_name} n'a plus de place ce mois-ci.", code="capacity_exhausted"
        )
    _set_proposal(case, key, now, batch_id=None, travel=None, explanation="Proposition manuelle")
    await _transition(
        session=session,
        case=case,
        to=CaseStatus.proposed,
        actor=actor,
        now=now,
        action="orientation_propose",
    )
    return case


def _set_proposal(
    case: OrientationCase,
    key: str,
    now: dt.datetime,
    *,
    batch_id: int | None,
    travel: float | None,
    explanation: str | None,
) -> None:
    kind, raw = key.split(":")
    case.practitioner_id = int(raw) if kind == "p" else None
    case.territory_gp_id = int(raw) if kind == "t" else None
    case.proposed_at = now
    case.batch_id = batch_id
    case.proposal_travel_minutes = travel
    case.proposal_explanation = explanation
    case.unmatched_reason = None
    case.answered_at = None


async def record_answer(
    *,
    session: AsyncSession,
    case_id: int,
    accepted: bool,
    note: str | None,
    actor: User,
    now: dt.datetime,
    channel: str = "sms",
) -> OrientationCase:
    """The secretariat records the patient's answer; on acceptance the GP is told."""
    case = await get_case(session=session, case_id=case_id, lock=True)
    case.answered_at = now
    event = await _transition(
        session=session,
        case=case,
        to=CaseStatus.accepted if accepted else CaseStatus.refused,
        actor=actor,
        now=now,
        note=note,
        action="orientation_answer",
    )
    if accepted:
        patient = await session.get(Patient, case.patient_id)
        gp = await _gp_row(
            session, practitioner_id=case.practitioner_id, territory_gp_id=case.territory_gp_id
        )
        assert patient is not None
        await notifications.notify_gp(
            session=session,
            case=case,
            patient=patient,
            gp=gp,
            event_id=event.id,
            channel=channel,
        )
    return case


async def declare(
    *, session: AsyncSession, case_id: int, actor: User, now: dt.datetime
) -> OrientationCase:
    """The médecin traitant declaration is done: the case ends, the patient file follows."""
    case = await get_case(session=session, case_id=case_id, lock=True)
    case.declared_at = now
    await _transition(
        session=session,
        case=case,
        to=CaseStatus.declared,
        actor=actor,
        now=now,
        action="orientation_declare",
    )
    patient = await session.get(Patient, case.patient_id)
    gp: Practitioner | TerritoryGP | None = None
    if case.practitioner_id:
        gp = await session.get(Practitioner, case.practitioner_id)
    if gp is None and case.territory_gp_id:
        gp = await session.get(TerritoryGP, case.territory_gp_id)
    assert patient is not None
    patient.medecin_traitant_status = MedecinTraitantStatus.declared
    patient.medecin_traitant_name = gp.display_name if gp is not None else None
    patient.medecin_traitant_id = case.practitioner_id
    await session.flush()
    await audit_service.record(
        session=session,
        actor=actor,
        action="update",
        entity_type="patient",
        entity_id=patient.id,
        patient_id=patient.id,
        detail={"fields": ["medecin_traitant_status", "medecin_traitant_name"]},
    )
    return case


async def close(
    *,
    session: AsyncSession,
    case: OrientationCase,
    reason: CloseReason,
    note: str | None,
    actor: User | None,
    now: dt.datetime,
) -> OrientationCase:
    case.closed_at = now
    case.close_reason = reason
    case.close_note = note
    await _transition(
        session=session,
        case=case,
        to=CaseStatus.closed,
        actor=actor,
        now=now,
        note=note or CLOSE_REASON_LABELS[reason],
        action="orientation_close",
    )
    return case


async def close_case(
    *,
    session: AsyncSession,
    case_id: int,
    reason: CloseReason,
    note: str | None,
    actor: User,
    now: dt.datetime,
) -> OrientationCase:
    case = await get_case(session=session, case_id=case_id, lock=True)
    return await close(session=session, case=case, reason=reason, note=note, actor=actor, now=now)


async def set_consent(
    *, session: AsyncSession, case_id: int, given: bool, actor: User, now: dt.datetime
) -> OrientationCase:
    case = await get_case(session=session, case_id=case_id, lock=True)
    return await record_consent(session=session, case=case, given=given, actor=actor, now=now)
