"""Triage: red flags send the caller to the 15 (or the 3114); urgency sets the deadline; the
modality by mobility; and what the platform can actually offer for that modality and hour.

The red-flag list and its French labels come from `shared/docs/domain.md`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from app.core.calendar import DEFAULT_CALENDAR, CareCalendar
from app.core.timeutil import PARIS, at
from app.practitioners.models import SessionKind
from app.requests.models import CareRequest, Destination, Urgency, UrgencyDecidedBy

RED_FLAGS: dict[str, str] = {
    "chest_pain": "Douleur thoracique",
    "dyspnoea": "Difficulté respiratoire, crise d'asthme qui ne cède pas",
    "neuro_deficit": (
        "Déficit moteur ou sensitif, trouble de la parole, visage asymétrique (AVC : VITE)"
    ),
    "sudden_headache": "Céphalée brutale et inhabituelle",
    "seizure": "Convulsions",
    "consciousness": "Perte de connaissance, somnolence inhabituelle, confusion",
    "poorly_tolerated_fever": (
        "Fièvre mal tolérée (frissons, marbrures, altération de l'état général)"
    ),
    "infant_fever": "Nourrisson de moins de 3 mois avec fièvre",
    "abdominal_pain_severe": "Douleur abdominale ou pelvienne brutale et intense, avec fièvre",
    "testicular_pain": "Douleur testiculaire aiguë",
    "hot_joint": "Articulation douloureuse et chaude avec fièvre",
    "haemorrhage": "Saignement abondant",
    "trauma_severe": "Traumatisme important, suspicion de fracture déplacée",
    "suicidal": "Idées suicidaires (danger immédiat → 15 ; sinon orienter vers le 3114)",
    "intoxication": "Intoxication, ingestion de produit",
}

REDIRECT_MESSAGE = (
    "Signe d'alerte : orienter immédiatement vers le 15 (SAMU). Aucun rendez-vous ne peut "
    "être pris pour cette demande."
)

# Where a request goes when not to the platform, and what the caller is told (numbers from
# `domain.md`: 15 danger, 3114 suicidal ideation without immediate danger, 116 117 PDSA).
DESTINATION_MESSAGES: dict[Destination, str] = {
    Destination.samu_15: REDIRECT_MESSAGE,
    Destination.suicide_3114: (
        "Idées suicidaires sans danger immédiat : orienter vers le 3114 (numéro national de "
        "prévention du suicide, gratuit, 24 h/24). En cas de danger immédiat : le 15."
    ),
    Destination.pdsa_116117: (
        "Hors des heures de la plateforme : orienter vers le 116 117 (permanence des soins "
        "ambulatoires) ; en cas d'urgence vitale, le 15."
    ),
    # Pharmacist protocols: décret et arrêté du 17 juin 2024 (JO du 18 juin 2024), ameli.fr
    # « Angine et cystite : prise en charge directe en pharmacie » — TROD angine from 10 years,
    # bandelette urinaire for uncomplicated cystitis in women 16–65 years (no fever, not
    # pregnant, fewer than 4 episodes in 12 months); antibiotic dispensed without prescription.
    Destination.pharmacist: (
        "Orienter vers une pharmacie : mal de gorge (à partir de 10 ans) ou cystite simple "
        "(femme de 16 à 65 ans, sans fièvre ni grossesse) — test rapide en officine et, s'il "
        "est positif, antibiotique délivré sans ordonnance."
    ),
    Destination.nurse: (
        "Orienter vers un infirmier ou une infirmière libérale (pansement, injection, "
        "surveillance)."
    ),
    Destination.emergency_department: (
        "Orienter vers un service d'urgences (examen, imagerie ou geste impossible en ville) ; "
        "en cas de détresse vitale, le 15."
    ),
}

# Infants. HAS, « Prise en charge de la fièvre chez l'enfant », fiche mémo (octobre 2016), and
# the Société française de pédiatrie: any fever (≥ 38 °C) before 3 months needs an urgent
# medical (hospital) assessment — hence the 15, never a teleconsultation. Under 6 months the
# secretary asks the infant red flags before any proposal.
INFANT_FEVER_MONTHS = 3
INFANT_PROMPT_MONTHS = 6
INFANT_PROMPTS: tuple[str, ...] = (
    "Fièvre (38 °C ou plus) chez un nourrisson de moins de 3 mois → 15, même bien tolérée",
    "Refus de boire ou de téter, moins de couches mouillées que d'habitude",
    "Somnolence inhabituelle, difficile à réveiller, cri faible ou geignard",
    "Teint pâle, gris ou marbré, lèvres bleues",
    "Respiration rapide ou difficile, pauses respiratoires",
    "Fontanelle bombée, convulsions, taches rouges qui ne s'effacent pas à la pression",
)
_FEVER = re.compile(
    r"fi[eè]vre|f[eé]bri|temp[eé]rature|\b(3[89]|4[0-2])([.,]\d)?\s*°", re.IGNORECASE
)
_NO_FEVER = re.compile(r"(pas de|sans|aucune)\s+(fi[eè]vre|temp[eé]rature)|apyr", re.IGNORECASE)

# Care hours, the morning round and PDSA hours: one calendar (app/core/calendar.py), built
# from the settings and shared with billing; each function takes it (default: national).
_URGENCY_HOURS = {Urgency.same_day: 0, Urgency.within_24h: 24, Urgency.within_48h: 48}
_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


class OfferKind:
    home_visit = "home_visit"
    teleconsultation = "teleconsultation"
    elsewhere = "elsewhere"
    unfilled = "unfilled"


@dataclass(frozen=True)
class Offer:
    """One thing the platform can promise for this request, in order of preference."""

    kind: str
    by: dt.datetime | None
    within_deadline: bool
    note: str
    destination: Destination | None = None

    @property
    def modality(self) -> SessionKind | None:
        if self.kind == OfferKind.home_visit:
            return SessionKind.home_visit
        if self.kind == OfferKind.teleconsultation:
            return SessionKind.teleconsultation
        return None


@dataclass(frozen=True)
class TriageOutcome:
    redirected: bool
    red_flags: tuple[str, ...]
    urgency: Urgency | None
    deadline: dt.datetime | None
    modality_suggested: SessionKind | None
    message: str
    destination: Destination = Destination.platform
    urgency_decided_by: UrgencyDecidedBy | None = None
    deadline_note: str | None = None
    offers: tuple[Offer, ...] = ()
    prompts: tuple[str, ...] = ()


class TeleconsultationRefused(ValueError):
    """A teleconsultation under 3 months without an explicit, reasoned override."""


def unknown_flags(flags: list[str]) -> list[str]:
    return [flag for flag in flags if flag not in RED_FLAGS]


def age_in_months(birth_date: dt.date, on: dt.date) -> int:
    months = (on.year - birth_date.year) * 12 + (on.month - birth_date.month)
    return months - (1 if on.day < birth_date.day else 0)


def default_urgency(birth_date: dt.date, on: dt.date, chosen: Urgency | None) -> Urgency:
    """Under 6 months or over 80 years → same day whatever was chosen; else the secretary's."""
    return decide_urgency(birth_date, on, chosen, by_regulator=False)[0]


def decide_urgency(
    birth_date: dt.date, on: dt.date, chosen: Urgency | None, *, by_regulator: bool
) -> tuple[Urgency, UrgencyDecidedBy]:
    """The urgency and who decided it.

    The age rule (under 6 months, 80 years and over → same day) is the secretariat's
    default; a SAS regulator's decision is a medical one and stands (a SNP referral is care
    within 48 h: their default).
    """
    if by_regulator:
        return chosen or Urgency.within_48h, UrgencyDecidedBy.regulator
    months = age_in_months(birth_date, on)
    if (months < 6 or months >= 80 * 12) and chosen != Urgency.same_day:
        return Urgency.same_day, UrgencyDecidedBy.age_rule
    return chosen or Urgency.within_48h, UrgencyDecidedBy.secretariat


def is_care_day(day: dt.date, calendar: CareCalendar = DEFAULT_CALENDAR) -> bool:
    return calendar.is_care_day(day)


def in_pdsa_hours(moment: dt.datetime, calendar: CareCalendar = DEFAULT_CALENDAR) -> bool:
    """Out-of-hours care (PDSA) time, when the 116 117 answers (the billing's calendar)."""
    return calendar.in_pdsa_hours(moment)


def french_day(day: dt.date) -> str:
    return f"{_DAYS[day.weekday()]} {day.day:02d}/{day.month:02d}"


def french_moment(moment: dt.datetime) -> str:
    local = moment.astimezone(PARIS)
    return f"{french_day(local.date())} {local:%H:%M}"


def deadline_with_note(
    urgency: Urgency, received_at: dt.datetime, calendar: CareCalendar = DEFAULT_CALENDAR
) -> tuple[dt.datetime, str | None]:
    """The deadline, and a French note when it moved past a day the platform is closed."""
    target = (received_at + dt.timedelta(hours=_URGENCY_HOURS[urgency])).astimezone(PARIS)
    day = target.date()
    if target.time() >= calendar.care_closes:
        day += dt.timedelta(days=1)
    closed = []
    while not calendar.is_care_day(day):
        closed.append(day)
        day += dt.timedelta(days=1)
    deadline = at(day, calendar.care_closes)
    if not closed:
        return deadline, None
    return deadline, (
        f"Échéance reportée au {french_moment(deadline)} : la plateforme est fermée le "
        f"{', '.join(french_day(d) for d in closed)} (dimanche ou jour férié). Si l'état "
        "s'aggrave d'ici là : 116 117 (permanence des soins), ou 15 en cas d'urgence vitale."
    )


def deadline_for(
    urgency: Urgency, received_at: dt.datetime, calendar: CareCalendar = DEFAULT_CALENDAR
) -> dt.datetime:
    """The close of the care day on which `received + N hours` falls, or of the next care day.

    Counting in the platform's opening hours means a deadline never expires on a
    Sunday, a public holiday or at night: it moves to the next day the platform cares.
    """
    return deadline_with_note(urgency, received_at, calendar)[0]


def urgency_covering(
    start: dt.datetime, received_at: dt.datetime, calendar: CareCalendar = DEFAULT_CALENDAR
) -> Urgency:
    """The tightest urgency whose deadline holds this slot (a regulator's booking is their
    decision); beyond 48 h the SNP default, and the booking's deadline check applies."""
    for urgency in (Urgency.same_day, Urgency.within_24h, Urgency.within_48h):
        if start <= deadline_for(urgency, received_at, calendar):
            return urgency
    return Urgency.within_48h


def next_round(received_at: dt.datetime, calendar: CareCalendar = DEFAULT_CALENDAR) -> dt.date:
    """The first morning round not yet started when the request arrives."""
    local = received_at.astimezone(PARIS)
    day = local.date() + dt.timedelta(days=1 if local.time() >= calendar.round_starts else 0)
    while not calendar.is_care_day(day):
        day += dt.timedelta(days=1)
    return day


def next_teleconsultation_day(
    received_at: dt.datetime, calendar: CareCalendar = DEFAULT_CALENDAR
) -> dt.date:
    local = received_at.astimezone(PARIS)
    day = local.date() + dt.timedelta(days=1 if local.time() >= calendar.tele_last_start else 0)
    while not calendar.is_care_day(day):
        day += dt.timedelta(days=1)
    return day


def offers(
    *,
    modality: SessionKind,
    received_at: dt.datetime,
    deadline: dt.datetime,
    teleconsultation_allowed: bool = True,
    calendar: CareCalendar = DEFAULT_CALENDAR,
) -> tuple[Offer, ...]:
    """What the platform can actually promise, modality by modality, best first.

    A home visit is done on a morning round (by default 10:00–13:00): once today's has
    started, the next one may be after the deadline. Then the triage says so and offers, in
    order, a teleconsultation within the deadline, the next round (with the reason, for the
    booking's derogation), the 116 117 out of hours, and the *non pourvue* outcome — never a
    silent late promise.
    """
    rnd = next_round(received_at, calendar)
    round_by = at(rnd, calendar.round_ends)
    tele_day = next_teleconsultation_day(received_at, calendar)
    tele_by = at(tele_day, calendar.care_closes)
    closes = f"{calendar.care_closes:%H:%M}"
    hours = calendar.round_hours()
    out: list[Offer] = []
    if modality == SessionKind.home_visit:
        round_note = f"Visite à domicile lors de la tournée du {french_day(rnd)} ({hours})"
        if round_by <= deadline:
            return (Offer(OfferKind.home_visit, round_by, True, round_note + "."),)
        local = received_at.astimezone(PARIS)
        why = (
            f"la tournée du matin ({hours}) a déjà commencé"
            if calendar.is_care_day(local.date()) and local.time() >= calendar.round_starts
            else "pas de tournée avant"
        )
        if teleconsultation_allowed and tele_by <= deadline:
            out.append(
                Offer(
                    OfferKind.teleconsultation,
                    tele_by,
                    True,
                    f"Visite impossible dans l'échéance ({why}) : téléconsultation le "
                    f"{french_day(tele_day)} avant {closes}.",
                )
            )
        out.append(
            Offer(
                OfferKind.home_visit,
                round_by,
                False,
                f"{round_note}, après l'échéance du {french_moment(deadline)} : {why}. "
                f"Motif de dérogation : « Prochaine tournée : {why}. »",
            )
        )
    else:
        if tele_by <= deadline:
            return (
                Offer(
                    OfferKind.teleconsultation,
                    tele_by,
                    True,
                    f"Téléconsultation le {french_day(tele_day)} avant {closes}.",
                ),
            )
        out.append(
            Offer(
                OfferKind.teleconsultation,
                tele_by,
                False,
                f"Téléconsultation le {french_day(tele_day)}, après l'échéance du "
                f"{french_moment(deadline)} : plus de créneau aujourd'hui.",
            )
        )
    if calendar.in_pdsa_hours(received_at):
        out.append(
            Offer(
                OfferKind.elsewhere,
                None,
                True,
                DESTINATION_MESSAGES[Destination.pdsa_116117],
                Destination.pdsa_116117,
            )
        )
    out.append(
        Offer(
            OfferKind.unfilled,
            None,
            False,
            "Non pourvue : rien ne tient l'échéance ; le dire à l'appelant et l'orienter "
            "(116 117, ou 15 en cas d'aggravation).",
        )
    )
    return tuple(out)


def mentions_fever(reason: str) -> bool:
    return bool(_FEVER.search(reason)) and not _NO_FEVER.search(reason)


def suggest_modality(
    *, cannot_travel: bool, reduced_mobility: bool, isolation: bool, disability: bool
) -> SessionKind:
    if cannot_travel or reduced_mobility or isolation or disability:
        return SessionKind.home_visit
    return SessionKind.teleconsultation


def triage(
    *,
    red_flags: list[str],
    birth_date: dt.date,
    received_at: dt.datetime,
    urgency: Urgency | None,
    cannot_travel: bool,
    reduced_mobility: bool,
    isolation: bool,
    disability: bool,
    reason: str = "",
    by_regulator: bool = False,
    suicidal_immediate_danger: bool | None = None,
    destination: Destination | None = None,
    modality: SessionKind | None = None,
    teleconsultation_override_reason: str | None = None,
    calendar: CareCalendar = DEFAULT_CALENDAR,
) -> TriageOutcome:
    """Red flags and orientation first, then the infant prompts, urgency, deadline, offers."""
    today = received_at.astimezone(PARIS).date()
    months = age_in_months(birth_date, today)
    flags = sorted(set(red_flags))
    # Fever before 3 months is a red flag whether the box was ticked or not (HAS 2016).
    # A SAS regulator is the 15's own regulation: their decision stands.
    if (
        not by_regulator
        and months < INFANT_FEVER_MONTHS
        and mentions_fever(reason)
        and "infant_fever" not in flags
    ):
        flags = sorted({*flags, "infant_fever"})
    if flags:
        # Suicidal ideation alone, with immediate danger ruled out, goes to the 3114.
        where = (
            Destination.suicide_3114
            if flags == ["suicidal"] and suicidal_immediate_danger is False
            else Destination.samu_15
        )
        return TriageOutcome(
            True, tuple(flags), None, None, None, DESTINATION_MESSAGES[where], where
        )
    if destination is not None and destination != Destination.platform:
        return TriageOutcome(
            True, (), None, None, None, DESTINATION_MESSAGES[destination], destination
        )
    prompts = INFANT_PROMPTS if months < INFANT_PROMPT_MONTHS else ()
    tele_allowed = months >= INFANT_FEVER_MONTHS or bool(teleconsultation_override_reason)
    if modality == SessionKind.teleconsultation and not tele_allowed:
        raise TeleconsultationRefused(
            "Pas de téléconsultation avant 3 mois sans dérogation explicite : indiquez le "
            "motif de la dérogation (teleconsultation_override_reason)."
        )
    chosen, decided_by = decide_urgency(birth_date, today, urgency, by_regulator=by_regulator)
    deadline, note = deadline_with_note(chosen, received_at, calendar)
    suggested = suggest_modality(
        cannot_travel=cannot_travel,
        reduced_mobility=reduced_mobility,
        isolation=isolation,
        disability=disability,
    )
    if not tele_allowed:
        suggested = SessionKind.home_visit
    offered = offers(
        modality=modality or suggested,
        received_at=received_at,
        deadline=deadline,
        teleconsultation_allowed=tele_allowed,
        calendar=calendar,
    )
    message = "Demande de soins non programmés à planifier."
    if not offered[0].within_deadline or offered[0].modality != (modality or suggested):
        message = offered[0].note
    return TriageOutcome(
        False,
        (),
        chosen,
        deadline,
        suggested,
        message,
        Destination.platform,
        decided_by,
        note,
        offered,
        prompts,
    )


def infant_months(birth_date: dt.date, now: dt.datetime) -> int | None:
    """The age in months when the infant prompts apply (under 6 months), else None."""
    months = age_in_months(birth_date, now.astimezone(PARIS).date())
    return months if months < INFANT_PROMPT_MONTHS else None


@dataclass(frozen=True)
class Outlook:
    """What the request page shows of the triage: the prompts, the offers, the deadline note."""

    prompts: tuple[str, ...]
    offers: tuple[Offer, ...]
    deadline_note: str | None


def outlook(
    care_request: CareRequest, birth_date: dt.date, calendar: CareCalendar = DEFAULT_CALENDAR
) -> Outlook:
    """The triage's offers again for a stored request (same rules as at intake)."""
    prompts = (
        INFANT_PROMPTS if infant_months(birth_date, care_request.received_at) is not None else ()
    )
    if care_request.deadline is None or care_request.modality is None:
        return Outlook(prompts, (), care_request.deadline_note)
    tele_allowed = age_in_months(
        birth_date, care_request.received_at.astimezone(PARIS).date()
    ) >= INFANT_FEVER_MONTHS or bool(care_request.teleconsultation_override_reason)
    found = offers(
        modality=care_request.modality,
        received_at=care_request.received_at,
        deadline=care_request.deadline,
        teleconsultation_allowed=tele_allowed,
        calendar=calendar,
    )
    return Outlook(prompts, found, care_request.deadline_note)
