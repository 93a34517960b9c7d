"""Local time of the platform: instants are stored in UTC, people read Europe/Paris."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import holidays

PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def aware(value: dt.datetime, tz: ZoneInfo = PARIS) -> dt.datetime:
    """A naive datetime from a person is local time; an aware one is kept as is."""
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def at(date: dt.date, time: dt.time, tz: ZoneInfo = PARIS) -> dt.datetime:
    return dt.datetime.combine(date, time, tzinfo=tz)


def local(value: dt.datetime, tz: ZoneInfo = PARIS) -> dt.datetime:
    return value.astimezone(tz)


def day_bounds(date: dt.date, tz: ZoneInfo = PARIS) -> tuple[dt.datetime, dt.datetime]:
    start = at(date, dt.time(0, 0), tz)
    return start, at(date + dt.timedelta(days=1), dt.time(0, 0), tz)


def is_public_holiday(date: dt.date) -> bool:
    return date in holidays.France(years=date.year)


def french_date(date: dt.date) -> str:
    return f"{WEEKDAYS_FR[date.weekday()]} {date.day} {MONTHS_FR[date.month - 1]}"
