"""Triage: red flags send the caller to the 15; urgency sets the deadline; modality by mobility.

The red-flag list and its French labels come from `shared/docs/domain.md`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.core.timeutil import PARIS, at, is_public_holiday
from app.practitioners.models import SessionKind
from app.requests.models import Urgency

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

# Care hours of the platform (home visits from 10:00, teleconsultations until 20:00).
CARE_OPENS = dt.time(10, 0)
CARE_CLOSES = dt.time(20, 0)
_URGENCY_HOURS = {Urgency.same_day: 0, Urgency.within_24h: 24, Urgency.within_48h: 48}


@dataclass(frozen=True)
class TriageOutcome:
    redirected: bool
    red_flags: tuple[str, ...]
    urgency: Urgency | None
    deadline: dt.datetime | None
    modality_suggested: SessionKind | None
    message: str


def unknown_flags(flags: list[str]) -> list[str]:
    return [flag for flag in flags if flag not in RED_FLAGS]


def age_in_months(birth_date: dt.date, on: dt.date) -> int:
    months = (on.year - birth_date.year) * 12 + (on.month - birth_date.month)
    return months - (1 if on.day < birth_date.day else 0)


def default_urgency(birth_date: dt.date, on: dt.date, chosen: Urgency | None) -> Urgency:
    """Under 6 months or over 80 years → same day whatever was chosen; else the secretary's."""
    months = age_in_months(birth_date, on)
    if months < 6 or months >= 80 * 12:
        return Urgency.same_day
    return chosen or Urgency.within_48h


def is_care_day(day: dt.date) -> bool:
    return day.weekday() < 6 and not is_public_holiday(day)


def deadline_for(urgency: Urgency, received_at: dt.datetime) -> dt.datetime:
    """The close of the care day on which `received + N hours` falls, or of the next care day.

    Counting in the platform's opening hours means a deadline never expires on a
    Sunday, a public holiday or at night: it moves to the next day the platform cares.
    """
    target = (received_at + dt.timedelta(hours=_URGENCY_HOURS[urgency])).astimezone(PARIS)
    day = target.date()
    if target.time() >= CARE_CLOSES:
        day += dt.timedelta(days=1)
    while not is_care_day(day):
        day += dt.timedelta(days=1)
    return at(day, CARE_CLOSES)


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
) -> TriageOutcome:
    if red_flags:
        return TriageOutcome(True, tuple(red_flags), None, None, None, REDIRECT_MESSAGE)
    chosen = default_urgency(birth_date, received_at.astimezone(PARIS).date(), urgency)
    deadline = deadline_for(chosen, received_at)
    modality = suggest_modality(
        cannot_travel=cannot_travel,
        reduced_mobility=reduced_mobility,
        isolation=isolation,
        disability=disability,
    )
    return TriageOutcome(
        False, (), chosen, deadline, modality, "Demande de soins non programmés à planifier."
    )
