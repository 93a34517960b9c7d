"""Acts and surcharges: one tariff table with its eligibility rules, configurable.

Defaults: NGAP / convention médicale 2024, as summarised in `shared/docs/domain.md`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.practitioners.models import SessionKind

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
