"""The French SMS texts: content, signature, GSM-7 only, and how many segments they cost."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from telephony import CancelLinkSigner, SmsReplyMode, TelephonySettings, cancel_url
from telephony import sms_text as texts
from telephony.gsm import (
    gsm_fold,
    is_gsm7,
    non_gsm7_chars,
    segment_info,
    segments,
)
from telephony.sms_text import CancelOptions, Modality

PARIS = ZoneInfo("Europe/Paris")
CPTS = "CPTS de la Bièvre"
START = dt.datetime(2025, 3, 11, 15, 30, tzinfo=PARIS)  # a Tuesday
WINDOW = (
    dt.datetime(2025, 3, 11, 10, 0, tzinfo=PARIS),
    dt.datetime(2025, 3, 11, 12, 0, tzinfo=PARIS),
)
REPLY = CancelOptions(reply=True)


def _link() -> str:
    signer = CancelLinkSigner("s" * 32)
    token = signer.issue(123456, expires_at=dt.datetime(2025, 3, 12, tzinfo=PARIS))
    return cancel_url("https://cpts-bievre.example.fr", token)


URL = _link()
LINK = CancelOptions(url=URL)
BOTH = CancelOptions(reply=True, url=URL)


def test_teleconsultation_confirmation_says_when_with_whom_how_and_how_to_cancel() -> None:
    body = texts.booking_confirmation(
        modality=Modality.TELECONSULTATION,
        start=START,
        practitioner="Dr Martin",
        cpts_name=CPTS,
        cancel=REPLY,
    )

    assert body == (
        "RDV confirmé: téléconsultation avec Dr Martin mardi 11/03 à 15h30. "
        "Le médecin vous appellera à ce numéro. Pour annuler, répondez ANNULER.\n"
        "CPTS de la Bièvre"
    )
    assert segment_info(body).encoding == "GSM-7"
    assert segments(body) == 1


def test_home_visit_confirmation_gives_the_arrival_window() -> None:
    body = texts.booking_confirmation(
        modality="home_visit",
        start=WINDOW[0],
        end=WINDOW[1],
        practitioner="Dr Martin",
        cpts_name=CPTS,
        cancel=REPLY,
    )

    assert "visite à domicile de Dr Martin mardi 11/03 entre 10h et 12h" in body
    assert segments(body) == 1


def test_video_teleconsultation_gives_the_link() -> None:
    body = texts.booking_confirmation(
        modality=Modality.TELECONSULTATION,
        start=START,
        practitioner="Dr Martin",
        cpts_name=CPTS,
        cancel=LINK,
        video_url="https://visio.example.fr/r/abc",
    )

    assert "Lien de connexion: https://visio.example.fr/r/abc" in body
    assert "appellera" not in body


def test_alphanumeric_sender_never_asks_for_a_reply() -> None:
    settings = TelephonySettings(_env_file=None)  # type: ignore[call-arg]
    cancel = CancelOptions.from_settings(settings, URL)

    body = texts.booking_confirmation(
        modality=Modality.TELECONSULTATION,
        start=START,
        practitioner="Dr Martin",
        cpts_name=CPTS,
        cancel=cancel,
    )

    assert "ANNULER" not in body
    assert f"Pour annuler: {URL}\n" in body
    assert segments(body) == 2


def test_reply_capable_sender_offers_both_ways() -> None:
    settings = TelephonySettings(  # type: ignore[call-arg]
        _env_file=None, sms_reply_mode=SmsReplyMode.REPLY_CAPABLE
    )

    cancel = CancelOptions.from_settings(settings, URL)

    assert cancel == CancelOptions(reply=True, url=URL)


def test_alphanumeric_sender_without_link_is_refused() -> None:
    with pytest.raises(ValueError, match="SMS_CANCEL_LINK"):
        TelephonySettings(_env_file=None, sms_cancel_link=False)  # type: ignore[call-arg]


def test_times_are_shown_in_paris_time_whatever_the_input_zone() -> None:
    body = texts.cancel_confirmation(start=START.astimezone(dt.UTC), cpts_name=CPTS)

    assert "mardi 11/03 à 15h30" in body


def test_names_are_folded_to_gsm7_so_the_sms_stays_short() -> None:
    body = texts.arrival_window(
        window_start=WINDOW[0],
        window_end=WINDOW[1],
        practitioner="Dr Françoise Benoît-Lefèvre",
        cpts_name=CPTS,
    )

    assert "Dr Francoise Benoit-Lefèvre" in body
    assert is_gsm7(body)


ALL_TEXTS = {
    "confirmation, reply": texts.booking_confirmation(
        modality=Modality.TELECONSULTATION, start=START, practitioner="Dr Martin",
        cpts_name=CPTS, cancel=REPLY,
    ),
    "confirmation, home visit, both": texts.booking_confirmation(
        modality=Modality.HOME_VISIT, start=WINDOW[0], end=WINDOW[1],
        practitioner="Dr Martin", cpts_name=CPTS, cancel=BOTH,
    ),
    "confirmation, link": texts.booking_confirmation(
        modality=Modality.TELECONSULTATION, start=START, practitioner="Dr Martin",
        cpts_name=CPTS, cancel=LINK,
    ),
    "arrival window": texts.arrival_window(
        window_start=WINDOW[0], window_end=WINDOW[1], practitioner="Dr Martin", cpts_name=CPTS,
    ),
    "reminder, reply": texts.reminder(
        modality=Modality.TELECONSULTATION, start=START, practitioner="Dr Martin",
        cpts_name=CPTS, cancel=REPLY,
    ),
    "reminder, link": texts.reminder(
        modality=Modality.HOME_VISIT, start=WINDOW[0], end=WINDOW[1],
        practitioner="Dr Martin", cpts_name=CPTS, cancel=LINK,
    ),
    "cancellation notice": texts.cancellation_notice(
        start=START, cpts_name=CPTS, secretariat_phone="01 23 45 67 89"
    ),
    "change notice": texts.change_notice(
        modality=Modality.TELECONSULTATION, old_start=START,
        start=START + dt.timedelta(days=1), practitioner="Dr Durand", cpts_name=CPTS,
        cancel=REPLY,
    ),
    "cancel confirmation": texts.cancel_confirmation(start=START, cpts_name=CPTS),
    "nothing to cancel": texts.cancel_not_found(
        cpts_name=CPTS, secretariat_phone="01 23 45 67 89"
    ),
    "stop": texts.stop_confirmation(cpts_name=CPTS),
    "start": texts.start_confirmation(cpts_name=CPTS),
}
WITH_LINK = {"confirmation, home visit, both", "confirmation, link", "reminder, link"}


@pytest.mark.parametrize("name", sorted(ALL_TEXTS))
def test_every_text_is_gsm7_signed_and_short(name: str) -> None:
    body = ALL_TEXTS[name]

    assert non_gsm7_chars(body) == set()
    assert body.endswith("\nCPTS de la Bièvre")
    # One segment without a link; a link costs at most a second one.
    assert segments(body) <= (2 if name in WITH_LINK else 1)


@pytest.mark.parametrize(
    ("body", "encoding", "units", "count"),
    [
        ("", "GSM-7", 0, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("é è à ù ì ò É Ç", "GSM-7", 15, 1),
        ("€" * 80, "GSM-7", 160, 1),  # extension characters cost two septets
        ("€" * 81, "GSM-7", 162, 2),
        ("a" * 159 + "€", "GSM-7", 161, 2),
        # An escape pair is never split: 152 | € + 151 | 1 → three segments, not two.
        ("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3),
        ("ê", "UCS-2", 1, 1),
        ("ç" + "a" * 69, "UCS-2", 70, 1),
        ("ç" + "a" * 70, "UCS-2", 71, 2),
        ("â" + "a" * 133, "UCS-2", 134, 2),
        ("â" + "a" * 134, "UCS-2", 135, 3),
        ("😀" * 35, "UCS-2", 70, 1),  # surrogate pairs: two UTF-16 units each
    ],
)
def test_segment_counting(body: str, encoding: str, units: int, count: int) -> None:
    info = segment_info(body)

    assert (info.encoding, info.units, info.segments) == (encoding, units, count)


@pytest.mark.parametrize(
    ("char", "in_gsm7"),
    [
        ("é", True), ("è", True), ("à", True), ("ù", True), ("ì", True), ("ò", True),
        ("É", True), ("Ç", True), ("ü", True), ("ä", True), ("€", True), ("£", True),
        ("ê", False), ("â", False), ("î", False), ("ô", False), ("û", False),
        ("ç", False), ("ë", False), ("ï", False), ("œ", False), ("À", False), ("È", False),
        ("’", False), ("«", False),
    ],
)
def test_gsm_0338_table(char: str, in_gsm7: bool) -> None:
    assert is_gsm7(char) is in_gsm7


def test_fold_keeps_gsm_letters_and_replaces_the_others() -> None:
    assert gsm_fold("L’Haÿ-les-Roses — Benoît, Çà et là, « cœur »") == (
        "L'Hay-les-Roses - Benoit, Çà et là, \" coeur \""
    )
    # No close equivalent: kept, the SMS goes as UCS-2 rather than lose the name.
    assert gsm_fold("Nguyễn 北") == "Nguyen 北"
