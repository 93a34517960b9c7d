"""Recording what happened: seen or absent, the act and its surcharges, the orientation wish."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role, User
from app.appointments import billing, events, timing
from app.appointments import service as appointments_service
from app.appointments.models import Appointment, AppointmentStatus, Origin
from app.audit import service as audit_service
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.gp.models import VisitOutcome
from app.gp.schemas import BillingOut, OutcomeIn, OutcomeOut
from app.gp.service import MANAGERS
from app.orientation import service as orientation_service
from app.patients import service as patients_service
from app.patients.models import MedecinTraitantStatus, Patient
from app.practitioners import service as practitioners_service
from app.practitioners.models import Practitioner, SessionKind

logger = logging.getLogger(__name__)


# --- outcomes and billing -----------------------------------------------------------------


async def record_outcome(
    *,
    session: AsyncSession,
    appointment_id: int,
    outcome_in: OutcomeIn,
    actor: User,
    ctx: appointments_service.BookingContext,
) -> OutcomeOut:
    """Seen or not seen, the act with the surcharges that apply, the orientation wish."""
    if outcome_in.status not in (AppointmentStatus.fulfilled, AppointmentStatus.noshow):
        raise InvalidInput("Issue attendue : fulfilled (vu) ou noshow (absent).", field="status")
    appointment = await appointments_service.get(
        session=session, appointment_id=appointment_id, actor=actor, lock=True
    )
    if actor.role not in (Role.practitioner, *MANAGERS):
        raise Forbidden(
            "Seul le médecin (ou la coordination) enregistre l'issue d'une consultation."
        )
    if appointment.status != AppointmentStatus.booked:
        raise Conflict(f"L'issue de ce rendez-vous est déjà enregistrée ({appointment.status}).")
    # The one rule on when (app/appointments/timing.py), before anything is priced.
    timing.check_outcome_time(appointment, outcome_in.status, ctx.now, ctx.noshow_grace_minutes)
    practitioner = await practitioners_service.get(
        session=session, practitioner_id=appointment.practitioner_id
    )
    patient = await session.get(Patient, appointment.patient_id)
    if patient is None:
        raise NotFound("Patient du rendez-vous introuvable.")
    care_at = timing.care_date(appointment, ctx.now)
    video: bool | None = None
    if appointment.kind == SessionKind.teleconsultation:
        video = (
            outcome_in.video if outcome_in.video is not None else appointment.video_url is not None
        )
    table = await billing.table_with_settings(session, ctx.tariffs)
    priced = await billing.price(
        session,
        appointment=appointment,
        practitioner=practitioner,
        patient=patient,
        table=table,
        care_at=care_at,
        video=video,
    )
    billed_under_id = priced.billed_under_id
    billed_under = (
        practitioner
        if billed_under_id == practitioner.id
        else await practitioners_service.get(session=session, practitioner_id=billed_under_id)
    )
    if outcome_in.status == AppointmentStatus.fulfilled:
        result = priced.billing
        chosen = list(result.surcharges)
        if outcome_in.surcharges is not None:
            wanted = [code.strip().upper() for code in outcome_in.surcharges]
            refused = [code for code in wanted if code not in result.surcharges]
            if refused:
                detail = " ; ".join(
                    f"{code} — {result.reasons.get(code, 'ne s’applique pas à cet acte')}"
                    for code in refused
                )
                raise Conflict(
                    f"Majoration non applicable : {detail}.",
                    field="surcharges",
                    code="surcharge_not_eligible",
                    eligible=result.surcharges,
                )
            chosen = [code for code in result.surcharges if code in wanted]
        added = [code.strip().upper() for code in outcome_in.add_surcharges]
        refused = [code for code in added if code not in (*result.surcharges, *result.addable)]
        if refused:
            detail = " ; ".join(
                f"{code} — {result.reasons.get(code, 'ne s’applique pas à cet acte')}"
                for code in refused
            )
            raise Conflict(
                f"Majoration non applicable : {detail}.",
                field="add_surcharges",
                code="surcharge_not_eligible",
                eligible=[*result.surcharges, *result.addable],
            )
        for code in added:
            if code not in chosen:
                chosen.append(code)
                if code in result.addable:
                    result.reasons[code] = "oui : ajoutée par le médecin à l'issue"
        act_code: str | None = result.act_code
        total = (table.amount(result.act_code) if result.act_code else Decimal("0")) + sum(
            (table.amount(code) for code in chosen), Decimal("0")
        )
        reasons: dict[str, Any] = dict(result.reasons)
    else:
        act_code, chosen, total = None, [], Decimal("0")
        reasons = {"acte": "non : patient absent, aucun acte facturé"}
    if billed_under_id != practitioner.id:
        reasons["facturation"] = (
            f"acte de {practitioner.display_name} (adjoint) facturé au nom de "
            f"{billed_under.display_name} (titulaire)"
        )
    outcome = VisitOutcome(
        appointment_id=appointment.id,
        practitioner_id=practitioner.id,
        billed_under_id=billed_under_id,
        status=str(outcome_in.status),
        care_at=care_at,
        act_code=act_code,
        surcharges=chosen,
        total=str(total),
        reasons=reasons,
        wants_medecin_traitant_help=outcome_in.wants_medecin_traitant_help,
        note=outcome_in.note,
        video=video,
        recorded_by_id=actor.id,
        recorded_at=ctx.now,
    )
    session.add(outcome)
    # The appointment carries the act actually billed, so every reader sees the same one.
    appointment.act_code = act_code
    appointment.surcharges = chosen
    appointment.billing_detail = {
        "total": str(total),
        "reasons": reasons,
        "source": billing.SOURCE,
        "recorded": True,
    }
    appointment.billed_under_id = billed_under_id
    await session.flush()
    # Fires the `outcome` event: the SAS listener pushes INT_R03 for SAS bookings.
    await appointments_service.set_outcome(
        session=session,
        appointment_id=appointment.id,
        status=outcome_in.status,
        actor=actor,
        ctx=ctx,
    )
    # The médecin traitant question, asked at this contact: a patient confirmed without one
    # (or asking for help to find one while their status was unknown) becomes ``none``.
    answer = outcome_in.medecin_traitant_status
    if (
        answer is None
        and outcome_in.wants_medecin_traitant_help
        and patient.medecin_traitant_status == MedecinTraitantStatus.unknown
    ):
        answer = MedecinTraitantStatus.none
    if answer is not None:
        await patients_service.confirm_medecin_traitant_status(
            session=session, patient=patient, status=answer, actor=actor, source="gp_outcome"
        )
    if outcome_in.wants_medecin_traitant_help:
        case = await orientation_service.enter_patient(
            session=session,
            patient_id=patient.id,
            actor=actor,
            now=ctx.now,
            consent=True,  # the patient asked for help: that is the consent
            source="gp_outcome",
        )
        outcome.orientation_case_id = case.id if case is not None else None
        await session.flush()
    await audit_service.record(
        session=session,
        actor=actor,
        action="gp_outcome",
        entity_type="appointment",
        entity_id=appointment.id,
        patient_id=appointment.patient_id,
        detail={"status": str(outcome_in.status), "act": act_code, "surcharges": chosen},
    )
    return outcome_out(outcome, appointment, billed_under)


async def undo_outcome(
    *,
    session: AsyncSession,
    appointment_id: int,
    actor: User,
    ctx: appointments_service.BookingContext,
) -> Appointment:
    """Undo an outcome (its author, the same day): the recorded act goes, the appointment
    is « booked » again and priced as at booking; audited by appointments.

    The ``outcome_undone`` event follows (app/appointments/effects.py): the SAS, which was
    told « fulfilled » or « noshow » (INT_R03), hears the corrected « booked » in order,
    before any outcome recorded again.
    """
    appointment = await appointments_service.undo_outcome(
        session=session, appointment_id=appointment_id, actor=actor, ctx=ctx
    )
    await session.execute(delete(VisitOutcome).where(VisitOutcome.appointment_id == appointment.id))
    await session.flush()
    await events.emit(
        session,
        ctx.listeners,
        events.AppointmentEvent(events.EventKind.outcome_undone, appointment, actor, ctx.now),
    )
    return appointment


def outcome_out(
    outcome: VisitOutcome, appointment: Appointment, billed_under: Practitioner
) -> OutcomeOut:
    return OutcomeOut(
        appointment_id=appointment.id,
        status=AppointmentStatus(outcome.status),
        origin=appointment.origin,
        billing=BillingOut(
            act_code=outcome.act_code,
            surcharges=list(outcome.surcharges),
            total=outcome.total,
            reasons=outcome.reasons,
            billed_under_id=outcome.billed_under_id,
            billed_under=billed_under.display_name,
        ),
        wants_medecin_traitant_help=outcome.wants_medecin_traitant_help,
        orientation_case_id=outcome.orientation_case_id,
        sas_update=appointment.origin == Origin.sas,
    )
