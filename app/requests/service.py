"""Requests: intake with triage, and the status lifecycle."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role, User
from app.audit import service as audit_service
from app.core.calendar import DEFAULT_CALENDAR, CareCalendar
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.timeutil import PARIS, aware
from app.patients import service as patients_service
from app.patients.models import Patient
from app.practitioners.models import SessionKind
from app.requests.models import (
    CareRequest,
    Channel,
    Destination,
    RequestStatus,
    Urgency,
    UrgencyDecidedBy,
)
from app.requests.schemas import RequestIn
from app.requests.triage import (
    TeleconsultationRefused,
    TriageOutcome,
    deadline_with_note,
    triage,
)

# Which statuses a request may move to by hand (scheduling happens through booking).
_MANUAL_TRANSITIONS = {
    RequestStatus.new: {
        RequestStatus.advice_given,
        RequestStatus.cancelled,
        RequestStatus.unreachable,
        RequestStatus.redirected_15,
        RequestStatus.oriented,
        RequestStatus.unfilled,
    },
    RequestStatus.unreachable: {RequestStatus.new, RequestStatus.cancelled, RequestStatus.unfilled},
    RequestStatus.oriented: set(),
    RequestStatus.unfilled: {RequestStatus.new},
    RequestStatus.scheduled: set(),
    RequestStatus.redirected_15: set(),
    RequestStatus.advice_given: set(),
    RequestStatus.cancelled: set(),
}


async def create(
    *,
    session: AsyncSession,
    request_in: RequestIn,
    actor: User,
    now: dt.datetime,
    calendar: CareCalendar = DEFAULT_CALENDAR,
) -> tuple[CareRequest, TriageOutcome]:
    patient = await patients_service.get(
        session=session, patient_id=request_in.patient_id, actor=actor, purpose="intake"
    )
    received_at = aware(request_in.received_at, PARIS) if request_in.received_at else now
    if actor.role == Role.regulator:
        request_in = request_in.model_copy(update={"channel": Channel.sas})
    try:
        outcome = triage(
            red_flags=request_in.red_flags,
            birth_date=patient.birth_date,
            received_at=received_at,
            urgency=request_in.urgency,
            cannot_travel=request_in.cannot_travel,
            reduced_mobility=patient.reduced_mobility,
            isolation=patient.isolation,
            disability=patient.disability,
            reason=request_in.reason,
            by_regulator=actor.role == Role.regulator,
            suicidal_immediate_danger=request_in.suicidal_immediate_danger,
            destination=request_in.destination,
            modality=request_in.modality,
            teleconsultation_override_reason=request_in.teleconsultation_override_reason,
            calendar=calendar,
        )
    except TeleconsultationRefused as refused:
        raise InvalidInput(str(refused), field="modality") from refused
    if outcome.destination == Destination.samu_15:
        status = RequestStatus.redirected_15
    elif outcome.redirected:
        status = RequestStatus.oriented
    else:
        status = RequestStatus.new
    care_request = CareRequest(
        patient_id=patient.id,
        channel=request_in.channel,
        received_at=received_at,
        reason=request_in.reason,
        symptoms_since=request_in.symptoms_since,
        red_flags=list(outcome.red_flags),
        cannot_travel=request_in.cannot_travel,
        referred_by_medecin_traitant=request_in.referred_by_medecin_traitant,
        urgency=outcome.urgency,
        deadline=outcome.deadline,
        modality_suggested=outcome.modality_suggested,
        modality=None
        if outcome.redirected
        else (request_in.modality or outcome.modality_suggested),
        visit_minutes=request_in.visit_minutes,
        status=status,
        status_changed_at=now,
        status_note=outcome.message if outcome.redirected else None,
        handled_by_id=actor.id,
        urgency_decided_by=outcome.urgency_decided_by,
        destination=outcome.destination,
        deadline_note=outcome.deadline_note,
        teleconsultation_override_reason=request_in.teleconsultation_override_reason,
    )
    session.add(care_request)
    await session.flush()
    await audit_service.record(
        session=session,
        actor=actor,
        action="create",
        entity_type="request",
        entity_id=care_request.id,
        patient_id=patient.id,
        detail={
            "status": str(care_request.status),
            "red_flags": list(outcome.red_flags),
            "destination": str(outcome.destination),
            "urgency_decided_by": str(outcome.urgency_decided_by or ""),
        },
    )
    return care_request, outcome


async def get(
    *, session: AsyncSession, request_id: int, actor: User, lock: bool = False
) -> CareRequest:
    stmt = select(CareRequest).where(CareRequest.id == request_id)
    if lock:
        stmt = stmt.with_for_update()
    care_request = await session.scalar(stmt)
    if care_request is None:
        raise NotFound(f"Demande n°{request_id} introuvable.")
    # Reading the request reads the patient's data: access rules and audit apply.
    await patients_service.get(
        session=session, patient_id=care_request.patient_id, actor=actor, purpose="read_request"
    )
    return care_request


async def list_open(*, session: AsyncSession, limit: int = 200) -> Sequence[CareRequest]:
    stmt = (
        select(CareRequest)
        .where(CareRequest.status == RequestStatus.new)
        .order_by(CareRequest.deadline.nulls_last(), CareRequest.received_at)
        .limit(limit)
    )
    return (await session.scalars(stmt)).all()


async def list_for_patient(*, session: AsyncSession, patient_id: int) -> Sequence[CareRequest]:
    stmt = (
        select(CareRequest)
        .where(CareRequest.patient_id == patient_id)
        .order_by(CareRequest.received_at.desc())
    )
    return (await session.scalars(stmt)).all()


async def change_status(
    *,
    session: AsyncSession,
    request_id: int,
    status: RequestStatus,
    note: str | None,
    actor: User,
    now: dt.datetime,
    destination: Destination | None = None,
) -> CareRequest:
    care_request = await get(session=session, request_id=request_id, actor=actor, lock=True)
    if status not in _MANUAL_TRANSITIONS[care_request.status]:
        raise Conflict(
            f"Passage impossible de « {care_request.status} » à « {status} » pour cette demande."
        )
    if status == RequestStatus.oriented:
        if destination in (None, Destination.platform, Destination.samu_15):
            raise InvalidInput(
                "Indiquez où la demande est orientée (3114, 116 117, pharmacien, infirmier, "
                "urgences) ; pour le 15, utilisez « redirected_15 ».",
                field="destination",
            )
        care_request.destination = destination
    elif status == RequestStatus.redirected_15:
        care_request.destination = Destination.samu_15
    set_status(care_request, status, now=now, note=note)
    await session.flush()
    await audit_service.record(
        session=session,
        actor=actor,
        action="status",
        entity_type="request",
        entity_id=care_request.id,
        patient_id=care_request.patient_id,
        detail={"status": str(status), "destination": str(care_request.destination or "")},
    )
    return care_request


def set_status(
    care_request: CareRequest, status: RequestStatus, *, now: dt.datetime, note: str | None = None
) -> None:
    care_request.status = status
    care_request.status_changed_at = now
    if note is not None:
        care_request.status_note = note


async def reconsider(
    *,
    session: AsyncSession,
    request_id: int,
    actor: User,
    now: dt.datetime,
    reason: str,
    urgency: Urgency | None = None,
    modality: SessionKind | None = None,
    calendar: CareCalendar = DEFAULT_CALENDAR,
) -> CareRequest:
    """Widen the urgency or switch the modality of a waiting request, with a reason.

    The way out when no option holds the deadline (issue 22, "no dead ends"). The new
    deadline follows the triage's rule from the time the call was received
    (``deadline_with_note``); the teleconsultation rule for infants is the triage's own.
    Audited with the reason, which also goes in the request's note.
    """
    care_request = await get(session=session, request_id=request_id, actor=actor, lock=True)
    if care_request.status not in (RequestStatus.new, RequestStatus.unreachable):
        raise Conflict("Cette demande n'attend plus de rendez-vous.", code="request_not_open")
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Indiquez le motif du changement.", field="reason")
    if urgency is None and modality is None:
        raise InvalidInput("Choisissez une autre urgence ou une autre modalité.", field="urgency")
    patient = await session.get(Patient, care_request.patient_id)
    assert patient is not None
    before = {
        "urgency": str(care_request.urgency or ""),
        "modality": str(care_request.modality or ""),
    }
    if modality is not None and modality != care_request.modality:
        try:  # the triage's teleconsultation rule (under 3 months: a reason, HAS 2016)
            triage(
                red_flags=[],
                birth_date=patient.birth_date,
                received_at=care_request.received_at,
                urgency=urgency or care_request.urgency,
                cannot_travel=care_request.cannot_travel,
                reduced_mobility=patient.reduced_mobility,
                isolation=patient.isolation,
                disability=patient.disability,
                modality=modality,
                teleconsultation_override_reason=care_request.teleconsultation_override_reason,
                calendar=calendar,
            )
        except TeleconsultationRefused as refused:
            raise InvalidInput(str(refused), field="modality") from refused
        care_request.modality = modality
    if urgency is not None and urgency != care_request.urgency:
        care_request.urgency = urgency
        care_request.deadline, care_request.deadline_note = deadline_with_note(
            urgency, care_request.received_at, calendar
        )
        care_request.urgency_decided_by = UrgencyDecidedBy.secretariat
    care_request.status_note = f"Demande revue : {reason}"
    care_request.status_changed_at = now
    await session.flush()
    await audit_service.record(
        session=session,
        actor=actor,
        action="reconsider",
        entity_type="request",
        entity_id=care_request.id,
        patient_id=care_request.patient_id,
        detail={
            "before": before,
            "urgency": str(care_request.urgency or ""),
            "modality": str(care_request.modality or ""),
            "reason": reason,
        },
    )
    return care_request
