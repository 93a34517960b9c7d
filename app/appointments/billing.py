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

from app.appointments.models import ACTIVE_STATUSES, Appointment, BillingSetting, Origin

# The PDSA calendar lives with the platform's care hours (one home, read by triage too).
from app.core.calendar import PdsaCalendar, PdsaPeriod
from app.core.timeutil import PARIS, at
from app.patients.models import MedecinTraitantStatus, Patient
from app.practitioners.models import Practitioner, PractitionerStatus, SessionKind
from app.requests.models import CareRequest

SOURCE = "NGAP / convention médicale 2024 (valeurs par défaut, modifiables)"

# Sources of the rules below (checked 2026-12):
# - MCG: convention médicale (art. 16.2 de la convention 2016, reprise en 2024) : le médecin
#   correspondant qui reçoit le patient « à la demande du médecin traitant » et fait un retour
#   d'information ; « ne s'applique pas aux patients sans médecin traitant » ni aux
#   bénéficiaires de l'AME (omniprat.org/?p=2478, 29/07/2024 ; fmfpro.org/?p=10836 :
#   la tolérance des moins de 16 ans ne vaut pas pour la MCG). Non cumulable avec la SNP.
# - SNP : NGAP art. 14.1.3 (JO du 14/05/2023) ; arrêté du 11 juillet 2022 : 15 € pour un acte
#   « réalisé au profit d'un patient dont ils ne sont pas le médecin traitant dans les 48 heures
#   après régulation par le SAS ou le SAMU, en dehors des horaires de la permanence de soins
#   ambulatoire » (cité par fmfpro.org/la-curieuse-gestion-de-la-majoration-snp).
# - PDSA : ameli.fr/medecin/exercice-liberal/facturation-remuneration/permanence-soins : les
#   majorations spécifiques des actes régulés en PDSA restent fixées par la convention
#   (CRN/CRM/CRD/CRS pour la consultation et la téléconsultation régulées, VRN/VRM/VRD/VRS pour
#   la visite) ; horaires : nuit 20 h–8 h (nuit profonde 0 h–6 h), samedi après-midi,
#   dimanche et jours fériés ; le cahier des charges régional (ARS) peut les étendre.
#   Montants : see each one in the table below (source, or « à vérifier »).
# - MEG : majoration forfaitaire enfant de 0 à 6 ans, 5 € (domain.md ; tarifs ameli des
#   généralistes) ; cumulable avec la TCG (nomenclature-medecin-generaliste.fr/?p=271).
# - TCG : ameli.fr/exercice-coordonne/exercice-professionnel/telemedecine/teleconsultation-0 ;
#   la téléconsultation se fait « par des moyens vidéos sécurisés » (kit-esante.fr) ; un
#   échange au seul téléphone « n'entre pas dans le champ de la téléconsultation » et n'est pas
#   remboursable : par défaut aucun acte n'est facturé (règle modifiable).


@dataclass(frozen=True)
class Tariff:
    code: str
    label: str
    amount: Decimal


def _tariffs(*items: Tariff) -> dict[str, Tariff]:
    return {t.code: t for t in items}


@dataclass(frozen=True)
class TariffTable:
    """The amounts and the switches the coordinator can set, in one place."""

    tariffs: dict[str, Tariff] = field(
        default_factory=lambda: _tariffs(
            Tariff("G", "Consultation de médecine générale", Decimal("30.00")),
            Tariff("VG", "Visite à domicile de médecine générale", Decimal("30.00")),
            Tariff("MD", "Majoration de déplacement", Decimal("10.00")),
            Tariff("TCG", "Téléconsultation de médecine générale", Decimal("25.00")),
            # MCG 5 € : convention 2024, annexe 1 (tarif 5,00 €, cité par fmfpro.org/?p=10836) ;
            # omniprat.org/?p=2478 (29/07/2024) « Code : MCG, Tarif : 5 € ».
            Tariff("MCG", "Majoration de coordination généraliste", Decimal("5.00")),
            # SNP 15 € : règlement arbitral (JO du 30/04/2023), « majoration de 15 euros SNP pour
            # les soins non programmés adressés par le SAS ou le centre 15 » (Le Quotidien du
            # médecin, « Règlement arbitral : ce qui change… 1er novembre ») ; NGAP art. 14.1.3.
            Tariff("SNP", "Majoration de soins non programmés (régulation SAS)", Decimal("15.00")),
            # MU 22,60 € : à vérifier (non recherché ici ; non appliquée par la plateforme).
            Tariff("MU", "Majoration d'urgence", Decimal("22.60")),
            # MEG 5 € : convention de 2016, « majoration unique de 5 euros (dite MEG) […] pour
            # les consultations concernant les enfants de moins de six ans » au 1er mai 2017
            # (Le Quotidien du pharmacien, « La consultation médicale passe à 25 euros »).
            Tariff("MEG", "Majoration enfant de moins de 6 ans", Decimal("5.00")),
            # Regulated PDSA surcharges. ameli.fr/medecin/exercice-liberal/facturation-
            # remuneration/permanence-soins (12/05/2023): « les majorations spécifiques […]
            # restent fixées par la convention médicale » — the page's amounts were not found
            # in the texts searched (ameli NGAP, convention 2024 and its annexes, avenants):
            # À VÉRIFIER on the NGAP in force. The amounts below agree with secondary sources:
            # santeducation.com/?p=541 (cabinet 42,5 € 20 h–0 h et 6 h–8 h, 51,5 € 0 h–6 h,
            # 26,5 € dimanche/férié et samedi ; domicile 46 €, 59,5 €, 30 €, 30 €) and
            # annuaire-du-net.eu « combien coûte une consultation chez un médecin de garde ».
            Tariff("CRN", "Consultation régulée de nuit (20 h–0 h, 6 h–8 h)", Decimal("42.50")),
            Tariff("CRM", "Consultation régulée de nuit profonde (0 h–6 h)", Decimal("51.50")),
            Tariff("CRD", "Consultation régulée dimanche et jour férié", Decimal("26.50")),
            Tariff("CRS", "Consultation régulée samedi après-midi", Decimal("26.50")),
            Tariff("VRN", "Visite régulée de nuit (20 h–0 h, 6 h–8 h)", Decimal("46.00")),
            Tariff("VRM", "Visite régulée de nuit profonde (0 h–6 h)", Decimal("59.50")),
            Tariff("VRD", "Visite régulée dimanche et jour férié", Decimal("30.00")),
            Tariff("VRS", "Visite régulée samedi après-midi", Decimal("30.00")),
        )
    )
    # The regulated PDSA surcharge of each act in each period (editable with the amounts).
    pdsa_codes: dict[str, dict[PdsaPeriod, str]] = field(
        default_factory=lambda: {
            act: {
                PdsaPeriod.night: f"{prefix}RN",
                PdsaPeriod.deep_night: f"{prefix}RM",
                PdsaPeriod.sunday_holiday: f"{prefix}RD",
                PdsaPeriod.saturday: f"{prefix}RS",
            }
            for act, prefix in (("G", "C"), ("TCG", "C"), ("VG", "V"))
        }
    )
    pdsa: PdsaCalendar = field(default_factory=PdsaCalendar)
    # The seed's wish (MCG on every platform act): a coordinator setting, off by default,
    # stored in `billing_settings` and read by :func:`price`. Never without a médecin traitant.
    mcg_on_every_platform_act: bool = False
    meg_age_limit_years: int = 6
    # What a teleconsultation done without video bills: None = no act (not a TCG, ameli).
    teleconsultation_without_video_act: str | None = None
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
    referred_by_medecin_traitant: bool = False
    birth_date: dt.date | None = None
    video: bool = True
    ame: bool = False  # aide médicale de l'État: outside the coordinated pathway


@dataclass(frozen=True)
class Billing:
    act_code: str | None
    surcharges: list[str]
    total: Decimal
    reasons: dict[str, str]
    # Surcharges not applied by default that the GP may add at the outcome (they attest it).
    addable: list[str] = field(default_factory=list)

    def detail(self) -> dict[str, Any]:
        return {"total": str(self.total), "reasons": self.reasons, "source": SOURCE}


def age_on(birth_date: dt.date, day: dt.date) -> int:
    years = day.year - birth_date.year
    return years - ((day.month, day.day) < (birth_date.month, birth_date.day))


# The acts the MCG may be added to: the consultation, in the office or by video (a TCG is
# billed as a consultation); never a home visit (see compute).
MCG_ACTS = ("G", "GS", "TCG")


def compute(facts: BillingFacts, table: TariffTable) -> Billing:
    """The act and the surcharges that apply, each with the reason it does or does not."""
    act, surcharges = ACT_BY_KIND[facts.kind]
    reasons: dict[str, str] = {}
    if facts.kind == SessionKind.teleconsultation and not facts.video:
        # ameli: a teleconsultation is a video act; a phone call alone is not a TCG.
        substitute = table.teleconsultation_without_video_act
        reasons["acte"] = "téléconsultation sans vidéo : ce n'est pas une TCG (ameli), " + (
            f"facturée {substitute} (règle de la coordination)"
            if substitute
            else "aucun acte facturé"
        )
        if substitute is None:
            return Billing(act_code=None, surcharges=[], total=Decimal("0"), reasons=reasons)
        act, surcharges = substitute, []
    surcharges = list(surcharges)
    pdsa = table.pdsa.period(facts.care_at)

    snp_ok = False
    if not facts.from_sas:
        reasons["SNP"] = "non : patient non adressé par le régulateur du SAS"
    elif pdsa is not None:
        # Arrêté du 11 juillet 2022 / NGAP 14.1.3: the SNP is for acts outside PDSA hours.
        reasons["SNP"] = "non : horaires de permanence des soins (majoration PDSA à la place)"
    elif facts.practitioner_is_medecin_traitant:
        reasons["SNP"] = "non : le médecin est le médecin traitant du patient"
    elif facts.referred_at and facts.care_at - facts.referred_at > table.snp_max_delay:
        reasons["SNP"] = "non : soin réalisé plus de 48 h après la régulation"
    elif facts.snp_used_this_week >= table.snp_weekly_ceiling:
        reasons["SNP"] = f"non : plafond hebdomadaire atteint ({table.snp_weekly_ceiling})"
    else:
        snp_ok = True
        reasons["SNP"] = "oui : adressé par le SAS, soin sous 48 h, hors horaires de PDSA"
        surcharges.append("SNP")

    pdsa_code = table.pdsa_codes.get(act, {}).get(pdsa) if pdsa is not None else None
    if pdsa is None:
        reasons["PDSA"] = "non : hors horaires de permanence des soins"
    elif not facts.from_sas:
        reasons["PDSA"] = "non : acte non régulé (majorations PDSA réservées aux actes régulés)"
    elif pdsa_code is None:
        reasons["PDSA"] = f"non : pas de majoration PDSA pour l'acte {act}"
    else:
        reasons["PDSA"] = f"oui : acte régulé en horaires de PDSA ({pdsa}) : {pdsa_code}"
        surcharges.append(pdsa_code)

    addable: list[str] = []
    if snp_ok:
        reasons["MCG"] = "non : non cumulable avec la majoration SNP"
    elif act not in MCG_ACTS:
        # Convention (art. 16.2 / 18.2): the MCG is « applicable à la consultation »; the
        # CPAM rejects VG + MCG (ameli's tariff page, as reported by fmfpro.org/?p=10836).
        reasons["MCG"] = "non : la MCG s'applique à la consultation, pas à la visite"
    elif facts.ame:
        reasons["MCG"] = "non : bénéficiaire de l'AME (hors parcours de soins coordonnés)"
    elif not facts.patient_has_medecin_traitant:
        reasons["MCG"] = "non : patient sans médecin traitant déclaré (parcours coordonné)"
    elif facts.practitioner_is_medecin_traitant:
        reasons["MCG"] = "non : le médecin est le médecin traitant du patient"
    elif facts.referred_by_medecin_traitant:
        reasons["MCG"] = "oui : adressé par son médecin traitant (retour d'information dû)"
        surcharges.append("MCG")
    elif table.mcg_on_every_platform_act:
        reasons["MCG"] = "oui : choix de la coordination (MCG sur tout acte de la plateforme)"
        surcharges.append("MCG")
    else:
        reasons["MCG"] = (
            "non : patient non adressé par son médecin traitant "
            "(le médecin peut l'ajouter s'il l'a été)"
        )
        addable.append("MCG")

    if facts.birth_date is None or act not in ("G", "VG", "TCG"):
        reasons["MEG"] = "non : ne s'applique pas à cet acte"
    elif age_on(facts.birth_date, facts.care_at.astimezone(PARIS).date()) < (
        table.meg_age_limit_years
    ):
        reasons["MEG"] = f"oui : enfant de moins de {table.meg_age_limit_years} ans"
        surcharges.append("MEG")
    else:
        reasons["MEG"] = f"non : patient de {table.meg_age_limit_years} ans ou plus"

    total = table.amount(act) + sum((table.amount(code) for code in surcharges), Decimal("0"))
    return Billing(
        act_code=act, surcharges=surcharges, total=total, reasons=reasons, addable=addable
    )


async def table_with_settings(session: AsyncSession, table: TariffTable) -> TariffTable:
    """The table with the coordinator's choices stored in `billing_settings` (set on /equipe)."""
    setting = await session.get(BillingSetting, 1)
    if setting is None or setting.mcg_on_every_platform_act == table.mcg_on_every_platform_act:
        return table
    return dataclasses.replace(table, mcg_on_every_platform_act=setting.mcg_on_every_platform_act)


async def set_mcg_on_every_platform_act(
    session: AsyncSession, *, value: bool, user_id: int | None, now: dt.datetime
) -> BillingSetting:
    setting = await session.get(BillingSetting, 1)
    if setting is None:
        setting = BillingSetting(id=1)
        session.add(setting)
    setting.mcg_on_every_platform_act = value
    setting.updated_by_id = user_id
    setting.updated_at = now
    await session.flush()
    return setting


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
    video: bool | None = None,
) -> Priced:
    """The act and surcharges of an appointment, at booking (care at its start) or outcome.

    ``video``: whether a teleconsultation was (or will be) done by video; by default, at
    booking, it is planned as such (a link is sent), and the outcome says what happened.
    """
    table = await table_with_settings(session, table)
    under = billed_under_id(practitioner)
    care_request = await session.get(CareRequest, appointment.request_id)
    facts = BillingFacts(
        kind=appointment.kind,
        from_sas=appointment.origin == Origin.sas,
        referred_at=appointment.sas_referral_at,
        care_at=care_at or appointment.start_at,
        practitioner_is_medecin_traitant=patient.medecin_traitant_id in (practitioner.id, under),
        patient_has_medecin_traitant=patient.medecin_traitant_status
        == MedecinTraitantStatus.declared,
        snp_used_this_week=0,
        referred_by_medecin_traitant=bool(
            care_request is not None and care_request.referred_by_medecin_traitant
        ),
        birth_date=patient.birth_date,
        video=True if video is None else video,
        ame=patient.ame,
    )
    if _snp_ceiling_decides(facts, table):  # counted only when it can change the answer
        # One counter, under the billing identity: an adjoint bills under the titular's
        # conventional number (CSP art. L.4131-2; billed_under_id), and the CPAM counts the
        # weekly SNP ceiling per billing number, so an adjoint's SNP count under the titular.
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
        and table.pdsa.period(facts.care_at) is None
    )
