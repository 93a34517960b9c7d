"""The platform's calendar: PDSA hours, care days and the morning round, in one home.

Billing (which surcharge applies: SNP outside PDSA hours, the regulated PDSA surcharge
inside) and triage (the deadline, the next round, the 116 117 out of hours) read the same
:class:`CareCalendar`, built once from the settings (``PDSA_*`` at the root, the round's
hours in ``settings.rounds``): one change of a setting moves both.

PDSA hours: décret n° 2010-809 du 13 juillet 2010 (CSP art. R. 6315-1 and following): « tous
les jours de 20 h à 8 h, le samedi à partir de midi ainsi que les dimanches et jours fériés »
(France Assos Santé, « L'accès aux soins en dehors des heures normales d'ouverture »); the
ARS's regional cahier des charges sets them per territory (``PDSA_*`` settings); nuit
profonde 0 h–6 h (CRM/VRM) is national.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

import holidays

from app.core.timeutil import PARIS

PDSA_DEEP_NIGHT = (dt.time(0), dt.time(6))  # nuit profonde (CRM/VRM), national


class PdsaPeriod(enum.StrEnum):
    """The PDSA period of an instant: each has its own regulated surcharge."""

    night = "nuit"  # 20 h–0 h et 6 h–8 h
    deep_night = "nuit_profonde"  # 0 h–6 h
    sunday_holiday = "dimanche_ferie"
    saturday = "samedi"  # samedi après-midi


@dataclass(frozen=True)
class PdsaCalendar:
    """PDSA hours: every night, Saturday afternoon, Sundays and public holidays (regional)."""

    night_start: dt.time = dt.time(20)
    night_end: dt.time = dt.time(8)
    saturday_from: dt.time = dt.time(12)
    # `holidays` subdivision for regional public holidays, e.g. "57" (Moselle): "" = national.
    holidays_subdivision: str = ""

    def is_holiday(self, day: dt.date) -> bool:
        calendar = holidays.country_holidays(
            "FR", subdiv=self.holidays_subdivision or None, years=day.year
        )
        return day in calendar

    def period(self, instant: dt.datetime) -> PdsaPeriod | None:
        """The PDSA period holding ``instant`` (Europe/Paris), None outside PDSA hours."""
        local = instant.astimezone(PARIS)
        clock = local.time()
        if PDSA_DEEP_NIGHT[0] <= clock < PDSA_DEEP_NIGHT[1]:
            return PdsaPeriod.deep_night
        if clock >= self.night_start or clock < self.night_end:
            return PdsaPeriod.night
        if local.weekday() == 6 or self.is_holiday(local.date()):
            return PdsaPeriod.sunday_holiday
        if local.weekday() == 5 and clock >= self.saturday_from:
            return PdsaPeriod.saturday
        return None


@dataclass(frozen=True)
class CareCalendar:
    """When the platform cares: outside PDSA nights, Sundays and holidays; rounds mornings.

    The platform's day closes when the PDSA night starts (then the 116 117 answers); the
    last teleconsultation starts ``tele_last_start_minutes`` before; home visits are done on
    the morning round (``round_starts``–``round_ends``, settings.rounds).
    """

    pdsa: PdsaCalendar = field(default_factory=PdsaCalendar)
    round_starts: dt.time = dt.time(10)
    round_ends: dt.time = dt.time(13)
    tele_last_start_minutes: int = 30

    @property
    def care_closes(self) -> dt.time:
        return self.pdsa.night_start

    @property
    def tele_last_start(self) -> dt.time:
        closes = dt.datetime.combine(dt.date(2000, 1, 1), self.care_closes)
        return (closes - dt.timedelta(minutes=self.tele_last_start_minutes)).time()

    def is_care_day(self, day: dt.date) -> bool:
        """Monday to Saturday, except the (regional) public holidays."""
        return day.weekday() < 6 and not self.pdsa.is_holiday(day)

    def in_pdsa_hours(self, moment: dt.datetime) -> bool:
        """Out-of-hours care (PDSA) time, when the 116 117 answers."""
        return self.pdsa.period(moment) is not None

    def round_hours(self) -> str:
        return f"{self.round_starts:%H:%M}–{self.round_ends:%H:%M}"


DEFAULT_CALENDAR = CareCalendar()
