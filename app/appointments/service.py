"""Booking: every rule checked in one place, under row locks, then guarded by the database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role, User
from app.appointments import billing, events, timing
from app.appointments import queries as appointments_queries
from app.appointments.models import ACTIVE_STATUSES, Appointment, AppointmentStatus, Origin
from app.appointments.schemas import BookingIn, RescheduleIn
from app.appointments.video import VideoProvider
from app.audit import service as audit_service
from app.audit.models import AuditEvent
from app.core.errors import Conflict, Forbidden, NotFound
from app.core.timeutil import PARIS, aware, day_bounds, paris_iso
from app.patients import service as patients_service
from app.patients.models import Patient
from app.practitioners import eligibility
from app.practitioners import service as practitioners_service
from app.practitioners.models import DutySession, Practitioner, SessionKind
from app.requests import service as requests_service
from app.requests.models import CareRequest, RequestStatus


@dataclass(frozen=True)
class BookingContext:
    """What booking needs from the app: the time, lengths and the tariff table."""

    now: dt.datetime
    listeners: tuple[events.Listener, ...] = ()
    teleconsultation_minutes: int = 15
    home_visit_window_minutes: int = 60
    tariffs: billing.TariffTable = billing.TariffTable()
    # Teleconsultation video rooms (app/appointments/video.py); None: no video configured.
    video: VideoProvider | None = None
    # The CPTS's rule (on by default): a regulator books only from the SAS page (origin=sas).
    regulators_book_only_from_sas: bool = True
    # « Absent » may be recorded from the start plus this grace period (app/appointments/timing).
    noshow_grace_minutes: int = timing.DEFAULT_NOSHOW_GRACE_MINUTES


def _default_length(
    kind: SessionKind, practitioner: Practitioner, ctx: BookingContext
) -> dt.timedelta:
    if kind == SessionKind.home_visit:
        return dt.timedelta(minutes=ctx.home_visit_window_minutes)
    if kind == SessionKind.teleconsultation:
        return dt.timedelta(
            minutes=practitioner.teleconsultation_slot_minutes or ctx.teleconsultation_minutes
        )
    return dt.timedelta(minutes=15)


def check_request_open(care_request: CareRequest) -> None:
    """Only a request still waiting for an appointment is proposed options or booked."""
    if care_request.status == RequestStatus.redirected_15:
        raise Conflict(
            "Demande réorientée vers le 15 (signe d'alerte) : aucun rendez-vous ne peut être pris.",
            code="redirected_15",
        )
    if care_request.status not in (RequestStatus.new, RequestStatus.unreachable):
        raise Conflict(
            f"Cette demande n'attend pas de rendez-vous (statut « {care_request.status} »).",
            code="request_not_open",
        )


def _check_origin(actor: User, origin: Origin | None, ctx: BookingContext) -> Origin:
    """A regulator books for the SAS, and (when the CPTS says so) only from the SAS page."""
    if actor.role == Role.regulator:
        if ctx.regulators_book_only_from_sas and origin != Origin.sas:
            raise Forbidden(
                "Le rôle de régulateur ne donne le droit de réserver que depuis la plateforme SAS."
            )
        return Origin.sas
    return origin or Origin.secretariat


async def _check_slot(
    *,
    session: AsyncSession,
    actor: User,
    care_request: CareRequest,
    practitioner: Practitioner,
    kind: SessionKind,
    start_at: dt.datetime,
    end_at: dt.datetime,
    override_reason: str | None,
    ctx: BookingContext,
    exclude_id: int | None = None,
) -> DutySession:
    """Every booking rule; raises for the first one broken (the roster's in ``eligibility``)."""
    if end_at <= start_at:
        raise Conflict("La fin du rendez-vous doit suivre son début.", field="end_at")
    if start_at < ctx.now - dt.timedelta(minutes=5):
        raise Conflict("Impossible de réserver un créneau déjà passé.", field="start_at")
    if care_request.deadline and start_at > care_request.deadline:
        if not override_reason:
            raise Conflict(
                "Ce créneau dépasse l'échéance de la demande : indiquez un motif de dérogation "
                "pour réserver quand même.",
                field="start_at",
                code="after_deadline",
            )
        if actor.role not in (Role.secretary, Role.coordinator, Role.admin):
            raise Forbidden("Seul le secrétariat ou la coordination peut déroger à l'échéance.")
    roster = await eligibility.load_for_booking(
        session,
        practitioner=practitioner,
        kind=kind,
        start=start_at,
        end=end_at,
        held=appointments_queries.held_in_sessions,
    )
    refusal = eligibility.presence_refusal(roster, practitioner, start_at, end_at)
    if refusal is not None:
        raise refusal.conflict()
    found = eligibility.containing_session(roster, practitioner.id, kind, start_at, end_at)
    if found is None:
        raise Conflict(
            "Aucune vacation de ce type ne couvre ce créneau pour ce médecin.",
            field="start_at",
            code="outside_session",
        )
    if actor.role == Role.regulator and not found.open_to_sas:
        raise Forbidden("Cette vacation n'est pas ouverte au SAS.")
    refusal = eligibility.room_refusal(roster, found, kind, start_at, end_at, exclude_id=exclude_id)
    if refusal is not None:
        raise refusal.conflict()
    return found


async def patient_same_day(
    *,
    session: AsyncSession,
    patient_id: int,
    start_at: dt.datetime,
    end_at: dt.datetime,
    exclude_request_id: int | None = None,
) -> list[Appointment]:
    """The patient's live appointments that overlap this time or fall on the same day.

    The one home of the double-booking guard (issue 22): triage, proposals and booking
    all ask here; booking refuses without ``confirm_same_day``.
    """
    day = start_at.astimezone(PARIS).date()
    first, last = day_bounds(day)
    stmt = select(Appointment).where(
        Appointment.patient_id == patient_id,
        Appointment.status.in_(ACTIVE_STATUSES),
        Appointment.start_at < max(last, end_at),
        Appointment.end_at > min(first, start_at),
    )
    if exclude_request_id is not None:
        stmt = stmt.where(Appointment.request_id != exclude_request_id)
    return list((await session.scalars(stmt.order_by(Appointment.start_at))).all())


async def _refuse_same_day(
    session: AsyncSession, care_request: CareRequest, start_at: dt.datetime, end_at: dt.datetime
) -> None:
    """409 naming the patient's other appointments that day, unless the caller confirmed
    (booking and moving alike: ``confirm_same_day``)."""
    others = await patient_same_day(
        session=session,
        patient_id=care_request.patient_id,
        start_at=start_at,
        end_at=end_at,
        exclude_request_id=care_request.id,
    )
    if others:
        raise Conflict(
            same_day_message(others, start_at, end_at),
            field="confirm_same_day",
            code="patient_same_day",
            appointments=[a.id for a in others],
        )


def same_day_message(
    found: Sequence[Appointment], start_at: dt.datetime, end_at: dt.datetime
) -> str:
    """French warning naming the patient's other appointments (overlap said first)."""
    overlap = any(a.start_at < end_at and a.end_at > start_at for a in found)
    times = ", ".join(
        f"{a.start_at.astimezone(PARIS):%H:%M}–{a.end_at.astimezone(PARIS):%H:%M}" for a in found
    )
    what = "qui chevauche ce créneau" if overlap else "le même jour"
    return (
        f"Ce patient a déjà un rendez-vous {what} ({times}) : vérifiez avec lui, puis "
        "cochez « … quand même » pour confirmer."
    )


async def _apply_billing(
    *,
    session: AsyncSession,
    appointment: Appointment,
    patient: Patient,
    practitioner: Practitioner,
    ctx: BookingContext,
) -> None:
    priced = await billing.price(
        session,
        appointment=appointment,
        practitioner=practitioner,
        patient=patient,
        table=ctx.tariffs,
    )
    result = priced.billing
    appointment.act_code = result.act_code
    appointment.surcharges = result.surcharges
    appointment.billing_detail = result.detail()
    appointment.billed_under_id = priced.billed_under_id
    if (
        appointment.kind == SessionKind.teleconsultation
        and patient.medecin_traitant_status != "declared"
    ):
        appointment.teleconsultation_exception = "cpts_sans_medecin_traitant"


async def load_request(
    *, session: AsyncSession, request_id: int, actor: User
) -> tuple[CareRequest, Patient]:
    """The request locked for booking and its patient, read once (access checked, traced)."""
    care_request = await session.scalar(
        select(CareRequest).where(CareRequest.id == request_id).with_for_update()
    )
    if care_request is None:
        raise NotFound(f"Demande n°{request_id} introuvable.")
    patient = await patients_service.get(
        session=session, patient_id=care_request.patient_id, actor=actor, purpose="read_request"
    )
    return care_request, patient


async def book(
    *,
    session: AsyncSession,
    booking_in: BookingIn,
    actor: User,
    ctx: BookingContext,
    origin: Origin | None = None,
    care_request: CareRequest | None = None,
    patient: Patient | None = None,
) -> Appointment:
    """The one booking pipeline: request locked once, rules once, priced once, one event.

    ``care_request`` and ``patient`` (from :func:`load_request`) spare a caller's second
    read; ``origin`` says where
    the booking comes from (``sas`` for the regulator's SAS page).
    """
    if care_request is None:
        care_request, patient = await load_request(
            session=session, request_id=booking_in.request_id, actor=actor
        )
    check_request_open(care_request)
    origin = _check_origin(actor, origin, ctx)
    practitioner = await practitioners_service.get(
        session=session, practitioner_id=booking_in.practitioner_id
    )
    kind = booking_in.kind or care_request.modality or SessionKind.teleconsultation
    start_at = aware(booking_in.start_at)
    end_at = (
        aware(booking_in.end_at)
        if booking_in.end_at
        else start_at + _default_length(kind, practitioner, ctx)
    )
    duty = await _check_slot(
        session=session,
        actor=actor,
        care_request=care_request,
        practitioner=practitioner,
        kind=kind,
        start_at=start_at,
        end_at=end_at,
        override_reason=booking_in.deadline_override_reason,
        ctx=ctx,
    )
    if not booking_in.confirm_same_day:
        await _refuse_same_day(session, care_request, start_at, end_at)
    appointment = Appointment(
        request_id=care_request.id,
        patient_id=care_request.patient_id,
        practitioner_id=practitioner.id,
        session_id=duty.id,
        kind=kind,
        start_at=start_at,
        end_at=end_at,
        visit_minutes=care_request.visit_minutes if kind == SessionKind.home_visit else None,
        status=AppointmentStatus.booked,
        origin=origin,
        booked_by_id=actor.id,
        sas_regulator_id=actor.id
        if origin == Origin.sas and actor.role == Role.regulator
        else None,
        sas_referral_at=ctx.now if origin == Origin.sas else None,
        deadline_override_reason=booking_in.deadline_override_reason
        if care_request.deadline and start_at > care_request.deadline
        else None,
        status_changed_at=ctx.now,
    )
    if kind == SessionKind.teleconsultation and ctx.video is not None:
        appointment.video_url = ctx.video.create_room(appointment)
    if patient is None or patient.id != care_request.patient_id:
        patient = await session.get(Patient, care_request.patient_id)
    assert patient is not None
    await _apply_billing(
        session=session,
        appointment=appointment,
        patient=patient,
        practitioner=practitioner,
        ctx=ctx,
    )
    session.add(appointment)
    await _flush_guarded(session)
    requests_service.set_status(care_request, RequestStatus.scheduled, now=ctx.now)
    await audit_service.record(
        session=session,
        actor=actor,
        action="book",
        entity_type="appointment",
        entity_id=appointment.id,
        patient_id=appointment.patient_id,
        detail={
            "practitioner_id": practitioner.id,
            "start_at": paris_iso(start_at),
            "kind": str(kind),
            "deadline_override_reason": appointment.deadline_override_reason,
        },
    )
    await events.emit(
        session,
        ctx.listeners,
        events.AppointmentEvent(events.EventKind.booked, appointment, actor, ctx.now),
    )
    return appointment


async def _flush_guarded(session: AsyncSession) -> None:
    """The database's own guards (exclusion constraint, triggers) answer as a 409 too."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "Ce créneau vient d'être pris : choisissez-en un autre.", code="slot_taken"
        ) from exc
    except Exception as exc:  # SQLite's RAISE(ABORT) from a trigger arrives as a generic error
        if "ex_appointments_no_overlap" in str(exc):
            raise Conflict(
                "Ce créneau vient d'être pris : choisissez-en un autre.", code="slot_taken"
            ) from exc
        raise


async def get(
    *, session: AsyncSession, appointment_id: int, actor: User, lock: bool = False
) -> Appointment:
    stmt = select(Appointment).where(Appointment.id == appointment_id)
    if lock:
        stmt = stmt.with_for_update()
    appointment = await session.scalar(stmt)
    if appointment is None:
        raise NotFound(f"Rendez-vous n°{appointment_id} introuvable.")
    # A titular answers for the adjoint's acts (billed under their name): e.g. their absence
    # moves or cancels the adjoint's appointments too.
    if actor.role == Role.practitioner and actor.practitioner_id not in (
        appointment.practitioner_id,
        appointment.billed_under_id,
    ):
        raise Forbidden("Ce rendez-vous n'est pas dans votre agenda.")
    if actor.role == Role.regulator and appointment.sas_regulator_id != actor.id:
        raise Forbidden("Ce rendez-vous n'a pas été pris par vous.")
    await audit_service.record(
        session=session,
        actor=actor,
        action="read",
        entity_type="appointment",
        entity_id=appointment.id,
        patient_id=appointment.patient_id,
    )
    return appointment


async def cancel(
    *,
    session: AsyncSession,
    appointment_id: int,
    reason: str,
    by_patient: bool,
    actor: User,
    ctx: BookingContext,
) -> Appointment:
    now = ctx.now
    appointment = await get(session=session, appointment_id=appointment_id, actor=actor, lock=True)
    if appointment.status != AppointmentStatus.booked:
        raise Conflict(
            f"Seul un rendez-vous réservé peut être annulé (statut « {appointment.status} »)."
        )
    appointment.status = AppointmentStatus.cancelled
    appointment.cancelled_at = now
    appointment.cancel_reason = reason or None
    appointment.cancelled_by_patient = by_patient
    appointment.status_changed_at = now
    care_request = await session.get(CareRequest, appointment.request_id)
    if care_request is not None:
        # Cancelled by the patient: the need is gone. By the platform: it still has to be met.
        requests_service.set_status(
            care_request, RequestStatus.cancelled if by_patient else RequestStatus.new, now=now
        )
    await session.flush()
    await audit_service.record(
        session=session,
        actor=actor,
        action="cancel",
        entity_type="appointment",
        entity_id=appointment.id,
        patient_id=appointment.patient_id,
        detail={"by_patient": by_patient},
    )
    await events.emit(
        session,
        ctx.listeners,
        events.AppointmentEvent(events.EventKind.cancelled, appointment, actor, now),
    )
    return appointment


async def reschedule(
    *,
    session: AsyncSession,
    appointment_id: int,
    reschedule_in: RescheduleIn,
    actor: User,
    ctx: BookingContext,
) -> Appointment:
    appointment = await get(session=session, appointment_id=appointment_id, actor=actor, lock=True)
    if appointment.status != AppointmentStatus.booked:
        raise Conflict("Seul un rendez-vous réservé peut être déplacé.")
    care_request = await session.get(CareRequest, appointment.request_id)
    assert care_request is not None
    practitioner = await practitioners_service.get(
        session=session,
        practitioner_id=reschedule_in.practitioner_id or appointment.practitioner_id,
    )
    start_at = aware(reschedule_in.start_at)
    end_at = (
        aware(reschedule_in.end_at)
        if reschedule_in.end_at
        else start_at + (appointment.end_at - appointment.start_at)
    )
    duty = await _check_slot(
        session=session,
        actor=actor,
        care_request=care_request,
        practitioner=practitioner,
        kind=appointment.kind,
        start_at=start_at,
        end_at=end_at,
        override_reason=reschedule_in.deadline_override_reason,
        ctx=ctx,
        exclude_id=appointment.id,
    )
    if not reschedule_in.confirm_same_day:
        await _refuse_same_day(session, care_request, start_at, end_at)
    previous = appointment.start_at
    previous_practitioner_id = appointment.practitioner_id
    appointment.practitioner_id = practitioner.id
    appointment.session_id = duty.id
    appointment.start_at, appointment.end_at = start_at, end_at
    appointment.planned_arrival = None
    appointment.route_order = None
    appointment.status_changed_at = ctx.now
    if reschedule_in.deadline_override_reason:
        appointment.deadline_override_reason = reschedule_in.deadline_override_reason
    patient = await session.get(Patient, appointment.patient_id)
    assert patient is not None
    await _apply_billing(
        session=session,
        appointment=appointment,
        patient=patient,
        practitioner=practitioner,
        ctx=ctx,
    )
    await _flush_guarded(session)
    await audit_service.record(
        session=session,
        actor=actor,
        action="reschedule",
        entity_type="appointment",
        entity_id=appointment.id,
        patient_id=appointment.patient_id,
        detail={"from": paris_iso(previous), "to": paris_iso(start_at)},
    )
    await events.emit(
        session,
        ctx.listeners,
        events.AppointmentEvent(
            events.EventKind.rescheduled,
            appointment,
            actor,
            ctx.now,
            previous_start=previous,
            previous_practitioner_id=previous_practitioner_id,
        ),
    )
    return appointment


async def set_outcome(
    *,
    session: AsyncSession,
    appointment_id: int,
    status: AppointmentStatus,
    actor: User,
    ctx: BookingContext,
) -> Appointment:
    now = ctx.now
    if status not in (AppointmentStatus.fulfilled, AppointmentStatus.noshow):
        raise Conflict(
            "Utilisez l'annulation pour annuler ; le statut attendu est fulfilled ou noshow."
        )
    appointment = await get(session=session, appointment_id=appointment_id, actor=actor, lock=True)
    if appointment.status != AppointmentStatus.booked:
        raise Conflict(f"Ce rendez-vous a déjà le statut « {appointment.status} ».")
    timing.check_outcome_time(appointment, status, now, ctx.noshow_grace_minutes)
    appointment.status = status
    appointment.status_changed_at = now
    await session.flush()
    await audit_service.record(
        session=session,
        actor=actor,
        action="outcome",
        entity_type="appointment",
        entity_id=appointment.id,
        patient_id=appointment.patient_id,
        detail={"status": str(status)},
    )
    await events.emit(
        session,
        ctx.listeners,
        events.AppointmentEvent(events.EventKind.outcome, appointment, actor, now),
    )
    return appointment


async def undo_outcome(
    *, session: AsyncSession, appointment_id: int, actor: User, ctx: BookingContext
) -> Appointment:
    """Back to « booked »: the author of the outcome, the same day (``timing.check_undo``).

    The act recorded with it is priced again as at booking (gp.outcomes removes its own
    record first); the
    undo is audited. The caller (gp.outcomes.undo_outcome) emits `outcome_undone`, whose
    declared effects (app/appointments/effects.py) push the corrected status to the SAS.
    """
    appointment = await get(session=session, appointment_id=appointment_id, actor=actor, lock=True)
    if appointment.status not in (AppointmentStatus.fulfilled, AppointmentStatus.noshow):
        raise Conflict("Aucune issue enregistrée à annuler pour ce rendez-vous.")
    author = await session.scalar(
        select(AuditEvent.user_id)
        .where(
            AuditEvent.entity_type == "appointment",
            AuditEvent.entity_id == appointment.id,
            AuditEvent.action == "outcome",
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    timing.check_undo(
        recorded_by_id=author,
        recorded_at=appointment.status_changed_at,
        actor_id=actor.id,
        now=ctx.now,
    )
    previous = appointment.status
    appointment.status = AppointmentStatus.booked
    appointment.status_changed_at = ctx.now
    # The act expected at booking again (the recorded one is gone with the outcome).
    patient = await session.get(Patient, appointment.patient_id)
    if patient is None:
        raise NotFound("Patient du rendez-vous introuvable.")
    await _apply_billing(
        session=session,
        appointment=appointment,
        patient=patient,
        practitioner=await practitioners_service.get(
            session=session, practitioner_id=appointment.practitioner_id
        ),
        ctx=ctx,
    )
    await session.flush()
    await audit_service.record(
        session=session,
        actor=actor,
        action="outcome_undo",
        entity_type="appointment",
        entity_id=appointment.id,
        patient_id=appointment.patient_id,
        detail={"undone": str(previous)},
    )
    return appointment


async def list_for_practitioner(
    *,
    session: AsyncSession,
    practitioner_id: int,
    start: dt.datetime,
    end: dt.datetime,
    include_cancelled: bool = False,
) -> Sequence[Appointment]:
    stmt = select(Appointment).where(
        Appointment.practitioner_id == practitioner_id,
        Appointment.start_at < end,
        Appointment.end_at > start,
    )
    if not include_cancelled:
        stmt = stmt.where(Appointment.status != AppointmentStatus.cancelled)
    stmt = stmt.order_by(Appointment.start_at, Appointment.route_order.nulls_last(), Appointment.id)
    return (await session.scalars(stmt)).all()


async def list_for_patient(*, session: AsyncSession, patient_id: int) -> Sequence[Appointment]:
    """Every appointment of a patient (cancelled ones too), latest first."""
    stmt = (
        select(Appointment)
        .where(Appointment.patient_id == patient_id)
        .order_by(Appointment.start_at.desc())
    )
    return (await session.scalars(stmt)).all()


async def free_slots(
    *,
    session: AsyncSession,
    start: dt.datetime,
    end: dt.datetime,
    practitioner_ids: Sequence[int] | None = None,
    kind: SessionKind = SessionKind.teleconsultation,
    sas_only: bool = False,
    now: dt.datetime | None = None,
) -> list[tuple[DutySession, dt.datetime, dt.datetime]]:
    """Timed slots cut from sessions at each practitioner's length, each one bookable."""
    roster = await eligibility.load(
        session,
        start=start,
        end=end,
        kinds=[kind],
        practitioner_ids=practitioner_ids,
        held=appointments_queries.held_in_sessions,
    )
    return eligibility.free_slots(
        roster, kind=kind, start=start, end=end, now=now, sas_only=sas_only
    )


async def count_in_session(*, session: AsyncSession, session_id: int) -> int:
    return (
        await session.scalar(
            select(func.count(Appointment.id)).where(
                Appointment.session_id == session_id, Appointment.status.in_(ACTIVE_STATUSES)
            )
        )
        or 0
    )


async def count_by_session(*, session: AsyncSession, session_ids: Sequence[int]) -> dict[int, int]:
    """Active appointments held in each of these sessions (sessions holding none are absent)."""
    if not session_ids:
        return {}
    rows = await session.execute(
        select(Appointment.session_id, func.count(Appointment.id))
        .where(Appointment.session_id.in_(session_ids), Appointment.status.in_(ACTIVE_STATUSES))
        .group_by(Appointment.session_id)
    )
    return {session_id: count for session_id, count in rows.all()}
