"""Acts and surcharges: one tariff table with its eligibility rules, configurable.

Defaults: NGAP / convention médicale 2024, as summarised in `shared/docs/domain.md`.
:func:`price` is the one entry point, used at booking and when the outcome is recorded:
it decides whom the act is billed under (:func:`billed_under_id`) and counts the weekly
SNP ceiling once (:func:`snp_used_this_week`, by the appointments' start, Monday-based).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.appointments.models import ACTIVE_STATUSES, Appointment, Origin
from app.core.timeutil import PARIS, at
from app.patients.models import MedecinTraitantStatus, Patient
from app.practitioners.models import Practitioner, PractitionerStatus, SessionKind

SOURCE = "NGAP / convention médicale 2024 (valeurs par défaut, modifiables)"


@dataclass(frozen=True)
class Tariff:
    code: str
    label: str
    amount: Decimal


@dataclass(frozen=True)
class TariffTable:
    """The amounts and the switches the coordinator can set, in one place."""

    tariffs: dict[str, Tariff] = field(
        default_factory=lambda: {
            t.code: t
            for t in (
                Tariff("G", "Consultation de médecine générale", Decimal("30.00")),
                Tariff("VG", "Visite à domicile de médecine générale", Decimal("30.00")),
                Tariff("MD", "Majoration de déplacement", Decimal("10.00")),
                Tariff("TCG", "Téléconsultation de médecine générale", Decimal("25.00")),
                Tariff("MCG", "Majoration de coordination généraliste", Decimal("5.00")),
                Tariff(
                    "SNP", "Majoration de soins non programmés (régulation SAS)", Decimal("15.00")
                ),
                Tariff("MU", "Majoration d'urgence", Decimal("22.60")),
            )
        }
    )
    # The seed finances every platform consultation with the MCG; under the 2024
    # convention it belongs to the coordinated pathway. The coordinator chooses.
    mcg_for_platform_consultations: bool = True
    mcg_requires_medecin_traitant: bool = False
    snp_weekly_ceiling: int = 20
    snp_max_delay: dt.timedelta = dt.timedelta(hours=48)

    def amount(self, code: str) -> Decimal:
        return self.tariffs[code].amount


ACT_BY_KIND = {
    SessionKind.home_visit: ("VG", ["MD"]),
    SessionKind.teleconsultation: ("TCG", []),
    SessionKind.practice: ("G", []),
}


@dataclass(frozen=True)
class BillingFacts:
    kind: SessionKind
    from_sas: bool
    referred_at: dt.datetime | None
    care_at: dt.datetime
    practitioner_is_medecin_traitant: bool
    patient_has_medecin_traitant: bool
    snp_used_this_week: int


@dataclass(frozen=True)
class Billing:
    act_code: str
    surcharges: list[str]
    total: Decimal
    reasons: dict[str, str]

    def detail(self) -> dict[str, Any]:
        return {"total": str(self.total), "reasons": self.reasons, "source": SOURCE}


def compute(facts: BillingFacts, table: TariffTable) -> Billing:
    """The act and the surcharges that apply, each with the reason it does or does not."""
    act, surcharges = ACT_BY_KIND[facts.kind]
    surcharges = list(surcharges)
    reasons: dict[str, str] = {}

    snp_ok = False
    if not facts.from_sas:
        reasons["SNP"] = "non : patient non adressé par le régulateur du SAS"
    elif facts.practitioner_is_medecin_traitant:
        reasons["SNP"] = "non : le médecin est le médecin traitant du patient"
    elif facts.referred_at and facts.care_at - facts.referred_at > table.snp_max_delay:
        reasons["SNP"] = "non : soin réalisé plus de 48 h après la régulation"
    elif facts.snp_used_this_week >= table.snp_weekly_ceiling:
        reasons["SNP"] = f"non : plafond hebdomadaire atteint ({table.snp_weekly_ceiling})"
    else:
        snp_ok = True
        reasons["SNP"] = "oui : adressé par le SAS, soin sous 48 h"
        surcharges.append("SNP")

    if snp_ok:
        reasons["MCG"] = "non : non cumulable avec la majoration SNP"
    elif not table.mcg_for_platform_consultations:
        reasons["MCG"] = "non : désactivée par la coordination"
    elif table.mcg_requires_medecin_traitant and not facts.patient_has_medecin_traitant:
        reasons["MCG"] = "non : parcours coordonné requis (pas de médecin traitant)"
    else:
        reasons["MCG"] = "oui : consultation organisée par la plateforme de la CPTS"
        surcharges.append("MCG")

    total = table.amount(act) + sum((table.amount(code) for code in surcharges), Decimal("0"))
    return Billing(act_code=act, surcharges=surcharges, total=total, reasons=reasons)


# --- the one entry point -------------------------------------------------------------------


def billed_under_id(practitioner: Practitioner) -> int:
    """An adjoint's acts are billed under the titular's name; anyone else's under their own."""
    if practitioner.status == PractitionerStatus.adjoint and practitioner.titular_id:
        return practitioner.titular_id
    return practitioner.id


def week_bounds(instant: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The Monday-based week (Europe/Paris) holding ``instant``."""
    local = instant.astimezone(PARIS).date()
    monday = local - dt.timedelta(days=local.weekday())
    return at(monday, dt.time(0)), at(monday + dt.timedelta(days=7), dt.time(0))


async def snp_used_this_week(
    session: AsyncSession,
    *,
    billed_under: int,
    start_at: dt.datetime,
    exclude_appointment_id: int | None = None,
) -> int:
    """SNP surcharges held by the other active appointments billed under this doctor that week.

    The appointment carries the surcharges (set at booking, replaced by those actually billed
    at the outcome; a no-show bills none), so one counter serves both moments.
    """
    start, end = week_bounds(start_at)
    stmt = select(Appointment.surcharges).where(
        Appointment.billed_under_id == billed_under,
        Appointment.status.in_(ACTIVE_STATUSES),
        Appointment.start_at >= start,
        Appointment.start_at < end,
    )
    if exclude_appointment_id is not None:
        stmt = stmt.where(Appointment.id != exclude_appointment_id)
    rows = (await session.scalars(stmt)).all()
    return sum(1 for surcharges in rows if "SNP" in (surcharges or []))


@dataclass(frozen=True)
class Priced:
    billing: Billing
    billed_under_id: int


async def price(
    session: AsyncSession,
    *,
    appointment: Appointment,
    practitioner: Practitioner,
    patient: Patient,
    table: TariffTable,
    care_at: dt.datetime | None = None,
) -> Priced:
    """The act and surcharges of an appointment, at booking (care at its start) or outcome."""
    under = billed_under_id(practitioner)
    facts = BillingFacts(
        kind=appointment.kind,
        from_sas=appointment.origin == Origin.sas,
        referred_at=appointment.sas_referral_at,
        care_at=care_at or appointment.start_at,
        practitioner_is_medecin_traitant=patient.medecin_traitant_id in (practitioner.id, under),
        patient_has_medecin_traitant=patient.medecin_traitant_status
        == MedecinTraitantStatus.declared,
        snp_used_this_week=0,
    )
    if _snp_ceiling_decides(facts, table):  # counted only when it can change the answer
        facts = dataclasses.replace(
            facts,
            snp_used_this_week=await snp_used_this_week(
                session,
                billed_under=under,
                start_at=appointment.start_at,
                exclude_appointment_id=appointment.id,
            ),
        )
    return Priced(compute(facts, table), under)


def _snp_ceiling_decides(facts: BillingFacts, table: TariffTable) -> bool:
    """Whether every other SNP condition holds, so that the weekly ceiling decides."""
    return bool(
        facts.from_sas
        and not facts.practitioner_is_medecin_traitant
        and not (facts.referred_at and facts.care_at - facts.referred_at > table.snp_max_delay)
    )
