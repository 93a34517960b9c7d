"""Recording what happened: seen or absent, the act and its surcharges, the orientation wish."""

from __future__ import annotations

import datetime as dt
import inspect
import logging
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Role, User
from app.appointments import billing
from app.appointments import service as appointments_service
from app.appointments.models import Appointment, AppointmentStatus, Origin
from app.audit import service as audit_service
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.core.timeutil import PARIS, at
from app.gp.models import VisitOutcome
from app.gp.schemas import BillingOut, OutcomeIn, OutcomeOut
from app.gp.service import MANAGERS, _optional
from app.patients.models import MedecinTraitantStatus, Patient
from app.practitioners import service as practitioners_service
from app.practitioners.models import Practitioner, PractitionerStatus

logger = logging.getLogger(__name__)


# --- outcomes and billing -----------------------------------------------------------------


def week_bounds(instant: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    local = instant.astimezone(PARIS).date()
    monday = local - dt.timedelta(days=local.weekday())
    return at(monday, dt.time(0)), at(monday + dt.timedelta(days=7), dt.time(0))


async def snp_billed_this_week(
    *, session: AsyncSession, billed_under_id: int, on: dt.datetime, exclude_appointment: int
) -> int:
    """SNP surcharges already billed under this doctor in the (Monday-based) week."""
    start, end = week_bounds(on)
    rows = (
        await session.scalars(
            select(VisitOutcome.surcharges).where(
                VisitOutcome.billed_under_id == billed_under_id,
                VisitOutcome.status == str(AppointmentStatus.fulfilled),
                VisitOutcome.care_at >= start,
                VisitOutcome.care_at < end,
                VisitOutcome.appointment_id != exclude_appointment,
            )
        )
    ).all()
    return sum(1 for surcharges in rows if "SNP" in (surcharges or []))


async def _enter_orientation(
    *, session: AsyncSession, patient_id: int, actor: User, now: dt.datetime
) -> int | None:
    orientation = _optional("app.orientation.service")
    enter = getattr(orientation, "enter_patient", None) if orientation else None
    if enter is None:
        logger.info("orientation domain absent: patient %s not put on the list", patient_id)
        return None
    kwargs: dict[str, Any] = {
        "session": session,
        "patient_id": patient_id,
        "actor": actor,
        "now": now,
    }
    params = inspect.signature(enter).parameters
    if "consent" in params:
        kwargs["consent"] = True  # the patient asked for help: that is the consent
    if "source" in params:
        kwargs["source"] = "gp_outcome"
    case = await enter(**kwargs)
    return getattr(case, "id", None)


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
    practitioner = await practitioners_service.get(
        session=session, practitioner_id=appointment.practitioner_id
    )
    billed_under_id = (
        practitioner.titular_id
        if practitioner.status == PractitionerStatus.adjoint and practitioner.titular_id
        else practitioner.id
    )
    billed_under = (
        practitioner
        if billed_under_id == practitioner.id
        else await practitioners_service.get(session=session, practitioner_id=billed_under_id)
    )
    patient = await session.get(Patient, appointment.patient_id)
    if patient is None:
        raise NotFound("Patient du rendez-vous introuvable.")
    care_at = min(ctx.now, appointment.planned_arrival or appointment.start_at)
    table: billing.TariffTable = ctx.tariffs
    if outcome_in.status == AppointmentStatus.fulfilled:
        facts = billing.BillingFacts(
            kind=appointment.kind,
            from_sas=appointment.origin == Origin.sas,
            referred_at=appointment.sas_referral_at,
            care_at=care_at,
            practitioner_is_medecin_traitant=patient.medecin_traitant_id
            in (practitioner.id, billed_under_id),
            patient_has_medecin_traitant=patient.medecin_traitant_status
            == MedecinTraitantStatus.declared,
            snp_used_this_week=await snp_billed_this_week(
                session=session,
                billed_under_id=billed_under_id,
                on=care_at,
                exclude_appointment=appointment.id,
            ),
        )
        result = billing.compute(facts, table)
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
        act_code: str | None = result.act_code
        total = table.amount(result.act_code) + sum(
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
    if outcome_in.wants_medecin_traitant_help:
        outcome.orientation_case_id = await _enter_orientation(
            session=session, patient_id=patient.id, actor=actor, now=ctx.now
        )
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
