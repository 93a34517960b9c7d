"""Local time of the platform: instants are stored in UTC, people read Europe/Paris."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo

import holidays
from pydantic import PlainSerializer

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


def paris_iso(value: dt.datetime) -> str:
    """An instant as the API writes it: ISO 8601 with the Europe/Paris offset (+01:00/+02:00)."""
    return aware(value).astimezone(PARIS).isoformat()


#: Every instant of the JSON API: read like any datetime, written with the Paris offset
#: (never ``Z`` here and ``+01:00`` there).
ParisDatetime = Annotated[
    dt.datetime, PlainSerializer(paris_iso, return_type=str, when_used="json")
]


def in_paris(value: object) -> object:
    """The same JSON-able structure with every instant moved to Paris time (hand-built dicts)."""
    if isinstance(value, dt.datetime):
        return aware(value).astimezone(PARIS)
    if isinstance(value, dict):
        return {key: in_paris(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [in_paris(item) for item in value]
    return value


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
