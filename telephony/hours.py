"""Secretariat opening hours and French public holidays, as pure functions of a given time.

No clock is read here: callers pass the moment they care about (an aware
datetime), so the voice answers can be tested for any day of the year.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from telephony.config import DEFAULT_SECRETARIAT_HOURS, OpeningHours

PARIS = ZoneInfo("Europe/Paris")

_DAY_NAMES = {
    1: "lundi",
    2: "mardi",
    3: "mercredi",
    4: "jeudi",
    5: "vendredi",
    6: "samedi",
    7: "dimanche",
}


@lru_cache(maxsize=32)
def _france_holidays(year: int) -> holidays.HolidayBase:
    return holidays.France(years=year)


def public_holiday(day: dt.date) -> str | None:
    """The name of the French public holiday on ``day`` (national list), or None."""
    name = _france_holidays(day.year).get(day)
    return str(name) if name else None


def local_time(at: dt.datetime, tz: ZoneInfo = PARIS) -> dt.datetime:
    """``at`` in the platform's time zone; naive datetimes are refused (ambiguous)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("une date avec fuseau horaire est attendue")
    return at.astimezone(tz)


def is_open(
    at: dt.datetime,
    *,
    hours: OpeningHours = DEFAULT_SECRETARIAT_HOURS,
    tz: ZoneInfo = PARIS,
    closed_on_public_holidays: bool = True,
) -> bool:
    """Whether the phone secretariat is open at ``at`` (closed on public holidays)."""
    local = local_time(at, tz)
    if closed_on_public_holidays and public_holiday(local.date()):
        return False
    now = local.time().replace(tzinfo=None)
    return any(start <= now < end for start, end in hours.get(local.isoweekday(), []))


def next_opening(
    at: dt.datetime,
    *,
    hours: OpeningHours = DEFAULT_SECRETARIAT_HOURS,
    tz: ZoneInfo = PARIS,
    closed_on_public_holidays: bool = True,
) -> dt.datetime | None:
    """The next moment the secretariat opens after ``at`` (None if never within 3 weeks)."""
    local = local_time(at, tz)
    for offset in range(22):
        day = local.date() + dt.timedelta(days=offset)
        if closed_on_public_holidays and public_holiday(day):
            continue
        for start, _end in sorted(hours.get(day.isoweekday(), [])):
            opening = dt.datetime.combine(day, start, tzinfo=tz)
            if opening > local:
                return opening
    return None


def spoken_time(t: dt.time) -> str:
    """A time as a French speaker says it: "8 heures", "8 heures 30", "midi"."""
    if t == dt.time(12):
        return "midi"
    if t == dt.time(0):
        return "minuit"
    unit = "heure" if t.hour == 1 else "heures"
    return f"{t.hour} {unit}" + (f" {t.minute}" if t.minute else "")


def describe_hours(hours: OpeningHours = DEFAULT_SECRETARIAT_HOURS) -> str:
    """Opening hours in one French phrase, consecutive days with the same hours grouped.

    ``{1..5: 8-20, 6: 8-12}`` → "du lundi au vendredi de 8 heures à 20 heures,
    et le samedi de 8 heures à midi".
    """
    groups: list[tuple[int, int, list[tuple[dt.time, dt.time]]]] = []
    for day in range(1, 8):
        ranges = sorted(hours.get(day, []))
        if not ranges:
            continue
        if groups and groups[-1][1] == day - 1 and groups[-1][2] == ranges:
            first, _, same = groups[-1]
            groups[-1] = (first, day, same)
        else:
            groups.append((day, day, ranges))
    phrases = []
    for first, last, ranges in groups:
        days = (
            f"le {_DAY_NAMES[first]}"
            if first == last
            else f"du {_DAY_NAMES[first]} au {_DAY_NAMES[last]}"
        )
        spans = " et ".join(f"de {spoken_time(s)} à {spoken_time(e)}" for s, e in ranges)
        phrases.append(f"{days} {spans}")
    if not phrases:
        return ""
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + ", et " + phrases[-1]


def day_name(day: dt.date) -> str:
    """The French name of the weekday ("lundi")."""
    return _DAY_NAMES[day.isoweekday()]
