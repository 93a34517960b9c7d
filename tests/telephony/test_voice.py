"""The public line's TwiML: in hours, out of hours, public holidays, Saturday afternoon."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

import pytest

from telephony import TelephonySettings, voice
from telephony.hours import describe_hours, is_open, next_opening, public_holiday

PARIS = ZoneInfo("Europe/Paris")
MENU = "https://cpts-bievre.example.fr/telephony/voice/menu"
CALLER = "+33612345678"


def paris(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)  # type: ignore[arg-type, misc]


@pytest.fixture
def settings() -> TelephonySettings:
    return TelephonySettings(_env_file=None)  # type: ignore[call-arg]


def _parse(twiml: str) -> ET.Element:
    root = ET.fromstring(twiml)
    assert root.tag == "Response"
    return root


def _spoken(root: ET.Element) -> str:
    return " ".join(say.text or "" for say in root.iter("Say"))


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (paris(2025, 3, 11, 10, 0), True),  # Tuesday morning
        (paris(2025, 3, 11, 8, 0), True),  # opening minute
        (paris(2025, 3, 11, 7, 59), False),
        (paris(2025, 3, 11, 19, 59), True),
        (paris(2025, 3, 11, 20, 0), False),  # closes at 20:00
        (paris(2025, 3, 15, 11, 30), True),  # Saturday morning
        (paris(2025, 3, 15, 14, 0), False),  # Saturday afternoon
        (paris(2025, 3, 16, 10, 0), False),  # Sunday
        (paris(2025, 7, 14, 10, 0), False),  # 14 July, a Monday
        (paris(2025, 12, 25, 10, 0), False),  # Christmas, a Thursday
        (paris(2025, 4, 21, 10, 0), False),  # Easter Monday
        (paris(2025, 5, 8, 10, 0), False),  # 8 May
        (dt.datetime(2025, 3, 11, 7, 30, tzinfo=dt.UTC), True),  # 08:30 in Paris (UTC+1)
        (dt.datetime(2025, 7, 15, 17, 30, tzinfo=dt.UTC), True),  # 19:30 in Paris (UTC+2)
        (dt.datetime(2025, 7, 15, 18, 30, tzinfo=dt.UTC), False),  # 20:30 in Paris
    ],
)
def test_secretariat_hours_and_public_holidays(moment: dt.datetime, expected: bool) -> None:
    assert is_open(moment) is expected


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        is_open(dt.datetime(2025, 3, 11, 10, 0))


def test_public_holidays_come_from_the_holidays_package() -> None:
    assert public_holiday(dt.date(2025, 4, 21)) is not None  # Lundi de Pâques
    assert public_holiday(dt.date(2025, 4, 22)) is None


def test_in_hours_welcome_mentions_the_15_then_offers_callback_then_queues(
    settings: TelephonySettings,
) -> None:
    root = _parse(
        voice.incoming_call(settings, at=paris(2025, 3, 11, 10, 0), menu_url=MENU, caller=CALLER)
    )

    verbs = [child.tag for child in root]
    assert verbs == ["Say", "Gather", "Say", "Enqueue"]
    welcome = root[0]
    assert welcome.get("language") == "fr-FR"
    assert welcome.get("voice") == "Polly.Lea"
    assert "CPTS de la Bièvre" in (welcome.text or "")
    assert "composez le 15" in (welcome.text or "")
    gather = root[1]
    assert gather.get("action") == MENU
    assert gather.get("numDigits") == "1"
    assert "tapez 1" in _spoken(gather)
    assert root[3].text == "secretariat"
    assert "116 117" not in _spoken(root)


def test_hidden_number_is_not_offered_a_callback(settings: TelephonySettings) -> None:
    root = _parse(
        voice.incoming_call(
            settings, at=paris(2025, 3, 11, 10, 0), menu_url=MENU, caller="anonymous"
        )
    )

    assert [child.tag for child in root] == ["Say", "Say", "Enqueue"]


def test_out_of_hours_gives_15_116117_hours_and_reopening(settings: TelephonySettings) -> None:
    root = _parse(
        voice.incoming_call(settings, at=paris(2025, 3, 11, 21, 0), menu_url=MENU, caller=CALLER)
    )

    text = _spoken(root)
    assert "actuellement fermé" in text
    assert "composez le 15" in text
    assert "116 117" in text
    assert "du lundi au vendredi de 8 heures à 20 heures, et le samedi de 8 heures à midi" in text
    assert "Il rouvrira demain à 8 heures" in text
    assert root.find("Enqueue") is None
    assert root[-1].tag == "Hangup"
    assert all(say.get("language") == "fr-FR" for say in root.iter("Say"))


def test_public_holiday_says_so_and_reopens_the_next_working_day(
    settings: TelephonySettings,
) -> None:
    root = _parse(voice.incoming_call(settings, at=paris(2025, 7, 14, 10, 0), menu_url=MENU))

    text = _spoken(root)
    assert "jour férié" in text
    assert "116 117" in text
    assert "Il rouvrira demain à 8 heures" in text  # Tuesday 15 July
    assert root.find("Enqueue") is None


def test_christmas_and_easter_monday_are_closed(settings: TelephonySettings) -> None:
    for moment in (paris(2025, 12, 25, 9, 0), paris(2025, 4, 21, 9, 0)):
        root = _parse(voice.incoming_call(settings, at=moment, menu_url=MENU))
        assert root.find("Enqueue") is None
        assert "jour férié" in _spoken(root)


def test_saturday_afternoon_is_closed_until_monday(settings: TelephonySettings) -> None:
    root = _parse(
        voice.incoming_call(settings, at=paris(2025, 3, 15, 14, 0), menu_url=MENU, caller=CALLER)
    )

    text = _spoken(root)
    assert "actuellement fermé" in text
    assert "Il rouvrira lundi à 8 heures" in text
    # A call-back request can still be left for the reopening.
    assert root.find("Gather") is not None


def test_pressing_1_records_a_callback_request(settings: TelephonySettings) -> None:
    root = _parse(voice.menu_choice(settings, digits="1", at=paris(2025, 3, 11, 10, 0)))

    assert "demande de rappel est enregistrée" in _spoken(root)
    assert root[-1].tag == "Hangup"


def test_another_key_in_hours_goes_to_the_queue(settings: TelephonySettings) -> None:
    root = _parse(voice.menu_choice(settings, digits="9", at=paris(2025, 3, 11, 10, 0)))

    assert root.find("Enqueue") is not None


def test_another_key_out_of_hours_repeats_the_numbers_and_hangs_up(
    settings: TelephonySettings,
) -> None:
    root = _parse(voice.menu_choice(settings, digits="", at=paris(2025, 3, 11, 22, 0)))

    assert "116 117" in _spoken(root)
    assert root[-1].tag == "Hangup"


def test_queue_wait_music_is_french_and_loops_with_a_pause(settings: TelephonySettings) -> None:
    root = _parse(voice.queue_wait(settings))

    assert [child.tag for child in root] == ["Say", "Pause"]
    assert "composez le 15" in _spoken(root)


def test_enqueue_urls_are_passed_on(settings: TelephonySettings) -> None:
    root = _parse(
        voice.enqueue(settings, wait_url="https://x.fr/wait", action_url="https://x.fr/left")
    )

    enqueue = root.find("Enqueue")
    assert enqueue is not None
    assert enqueue.get("waitUrl") == "https://x.fr/wait"
    assert enqueue.get("action") == "https://x.fr/left"


def test_hours_are_described_from_settings() -> None:
    hours = {
        1: [(dt.time(8, 30), dt.time(12)), (dt.time(14), dt.time(18))],
        2: [(dt.time(8, 30), dt.time(12)), (dt.time(14), dt.time(18))],
        4: [(dt.time(9), dt.time(13))],
    }

    assert describe_hours(hours) == (
        "du lundi au mardi de 8 heures 30 à midi et de 14 heures à 18 heures, "
        "et le jeudi de 9 heures à 13 heures"
    )


def test_next_opening_skips_holidays_and_sundays() -> None:
    # Saturday 13 July 2025 afternoon → Sunday → 14 July holiday → Tuesday 15.
    assert next_opening(paris(2025, 7, 12, 13, 0)) == paris(2025, 7, 15, 8, 0)


@pytest.mark.parametrize(
    ("number", "callable_"),
    [("+33612345678", True), ("anonymous", False), ("+266696687", False), ("", False),
     (None, False), ("0612345678", False)],
)
def test_callable_numbers(number: str | None, callable_: bool) -> None:
    assert voice.is_callable_number(number) is callable_
