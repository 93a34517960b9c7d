"""When reminders fall due, from the settings and the booking time (no clock read)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from telephony import TelephonySettings
from telephony.reminders import DueReminder, ReminderKind, reminder_times

PARIS = ZoneInfo("Europe/Paris")


def paris(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)  # type: ignore[arg-type, misc]


def _settings(**overrides: object) -> TelephonySettings:
    return TelephonySettings(_env_file=None, **overrides)  # type: ignore[call-arg, arg-type]


def test_evening_before_at_18h_and_two_hours_before() -> None:
    due = reminder_times(
        _settings(), start=paris(2025, 3, 12, 15, 30), booked_at=paris(2025, 3, 10, 9, 0)
    )

    assert due == [
        DueReminder(ReminderKind.EVENING_BEFORE, paris(2025, 3, 11, 18, 0).astimezone(dt.UTC)),
        DueReminder(ReminderKind.HOURS_BEFORE, paris(2025, 3, 12, 13, 30).astimezone(dt.UTC)),
    ]


def test_booked_the_same_evening_gets_no_evening_reminder() -> None:
    due = reminder_times(
        _settings(), start=paris(2025, 3, 12, 10, 0), booked_at=paris(2025, 3, 11, 19, 0)
    )

    assert [r.kind for r in due] == [ReminderKind.HOURS_BEFORE]


def test_same_day_booking_within_two_hours_gets_none() -> None:
    due = reminder_times(
        _settings(), start=paris(2025, 3, 12, 11, 0), booked_at=paris(2025, 3, 12, 9, 30)
    )

    assert due == []


def test_reminders_can_be_switched_off_separately() -> None:
    only_evening = _settings(reminder_hours_before=0)
    only_hours = _settings(reminder_evening_before=False, reminder_hours_before=3)
    start, booked = paris(2025, 3, 12, 15, 0), paris(2025, 3, 1, 9, 0)

    assert [r.kind for r in reminder_times(only_evening, start=start, booked_at=booked)] == [
        ReminderKind.EVENING_BEFORE
    ]
    assert reminder_times(only_hours, start=start, booked_at=booked) == [
        DueReminder(ReminderKind.HOURS_BEFORE, paris(2025, 3, 12, 12, 0).astimezone(dt.UTC))
    ]


def test_evening_reminder_across_the_dst_change() -> None:
    # Clocks go forward on Sunday 30 March 2025; 18:00 on the 30th is 16:00 UTC.
    due = reminder_times(
        _settings(), start=paris(2025, 3, 31, 10, 0), booked_at=paris(2025, 3, 28, 9, 0)
    )

    assert due[0].send_at == dt.datetime(2025, 3, 30, 16, 0, tzinfo=dt.UTC)
