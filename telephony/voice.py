"""The public line's answers, as TwiML in French: pure functions of the settings and a time.

In opening hours: a short welcome that sends life-threatening emergencies to the
15, an optional "press 1 to be called back", then the caller waits in the
secretariat's queue (``<Enqueue>``). Out of hours (and on public holidays): the
15 for emergencies, the 116 117 for the on-call GP (PDSA), the opening hours and
when the secretariat reopens. The app logs every call; these functions only speak.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from twilio.twiml.voice_response import VoiceResponse

from telephony.config import TelephonySettings
from telephony.hours import (
    day_name,
    describe_hours,
    is_open,
    local_time,
    next_opening,
    public_holiday,
    spoken_time,
)

__all__ = [
    "CALLBACK_DIGIT",
    "callback_recorded",
    "enqueue",
    "incoming_call",
    "is_callable_number",
    "is_open",
    "menu_choice",
    "out_of_hours",
    "queue_wait",
    "secretariat_is_open",
    "welcome_in_hours",
]

CALLBACK_DIGIT = "1"

EMERGENCY = (
    "Si votre vie ou celle d'un proche est en danger, raccrochez et composez le 15."
)
PDSA = "Pour joindre un médecin de garde, composez le 116 117."

#: What Twilio puts in ``From`` when the caller hides or has no number.
_HIDDEN_NUMBERS = {"", "anonymous", "unknown", "restricted", "blocked", "private",
                   "+266696687", "+86282452253", "+8656696", "+2562533", "+7378742833"}


def secretariat_is_open(settings: TelephonySettings, at: dt.datetime) -> bool:
    """Whether calls at ``at`` go to the secretariat (settings' hours and holidays)."""
    return is_open(
        at,
        hours=settings.secretariat_hours,
        tz=settings.tz,
        closed_on_public_holidays=settings.closed_on_public_holidays,
    )


def is_callable_number(number: str | None) -> bool:
    """Whether a caller's number can be called back (not hidden, E.164)."""
    if number is None or number.strip().lower() in _HIDDEN_NUMBERS:
        return False
    digits = number[1:] if number.startswith("+") else ""
    return digits.isdigit() and 8 <= len(digits) <= 15


def incoming_call(
    settings: TelephonySettings,
    *,
    at: dt.datetime,
    menu_url: str,
    caller: str | None = None,
    wait_url: str | None = None,
    enqueue_action_url: str | None = None,
) -> str:
    """Answer a call on the public line at ``at`` (welcome and queue, or closed message).

    ``menu_url`` receives the key pressed (``Digits``); the call-back option is
    offered only when ``caller`` can be called back.
    """
    callback = settings.voice_callback_option and is_callable_number(caller)
    if secretariat_is_open(settings, at):
        return welcome_in_hours(
            settings,
            menu_url=menu_url if callback else None,
            wait_url=wait_url,
            enqueue_action_url=enqueue_action_url,
        )
    return out_of_hours(settings, at=at, menu_url=menu_url if callback else None)


def _say(verb: Any, settings: TelephonySettings, text: str) -> None:
    # ``verb`` is the response or a <Gather> nested in it; both have ``say``.
    verb.say(text, voice=settings.voice_name, language=settings.voice_language)


def welcome_in_hours(
    settings: TelephonySettings,
    *,
    menu_url: str | None,
    wait_url: str | None = None,
    enqueue_action_url: str | None = None,
) -> str:
    """Welcome, the 15 for emergencies, optional call-back key, then the queue."""
    response = VoiceResponse()
    _say(response, settings, f"Bonjour, vous êtes bien à la {settings.cpts_name}. {EMERGENCY}")
    if menu_url:
        # Without a key press Twilio goes on to the next verb: the queue.
        gather = response.gather(
            num_digits=1,
            action=menu_url,
            method="POST",
            timeout=settings.voice_gather_timeout,
        )
        _say(
            gather,
            settings,
            f"Pour être rappelé par le secrétariat, tapez {CALLBACK_DIGIT}. "
            "Sinon, restez en ligne.",
        )
    _add_enqueue(response, settings, wait_url=wait_url, action_url=enqueue_action_url)
    return str(response)


def out_of_hours(
    settings: TelephonySettings, *, at: dt.datetime, menu_url: str | None = None
) -> str:
    """Closed: the 15, the 116 117, the opening hours and when the secretariat reopens."""
    local = local_time(at, settings.tz)
    holiday = (
        public_holiday(local.date()) if settings.closed_on_public_holidays else None
    )
    closed = (
        "Aujourd'hui est un jour férié, le secrétariat est fermé."
        if holiday
        else "Le secrétariat est actuellement fermé."
    )
    parts = [f"Bonjour, vous êtes bien à la {settings.cpts_name}.", closed, EMERGENCY, PDSA]
    hours = describe_hours(settings.secretariat_hours)
    if hours:
        parts.append(f"Le secrétariat vous répond {hours}, sauf les jours fériés.")
    reopening = next_opening(
        at,
        hours=settings.secretariat_hours,
        tz=settings.tz,
        closed_on_public_holidays=settings.closed_on_public_holidays,
    )
    if reopening is not None:
        parts.append(f"Il rouvrira {_spoken_day(local.date(), reopening)}.")
    response = VoiceResponse()
    _say(response, settings, " ".join(parts))
    if menu_url:
        gather = response.gather(
            num_digits=1,
            action=menu_url,
            method="POST",
            timeout=settings.voice_gather_timeout,
        )
        _say(
            gather,
            settings,
            f"Pour être rappelé à la réouverture du secrétariat, tapez {CALLBACK_DIGIT}.",
        )
    _say(response, settings, "Au revoir.")
    response.hangup()
    return str(response)


def _spoken_day(today: dt.date, when: dt.datetime) -> str:
    if when.date() == today:
        return f"aujourd'hui à {spoken_time(when.time())}"
    if when.date() == today + dt.timedelta(days=1):
        return f"demain à {spoken_time(when.time())}"
    if when.date() - today < dt.timedelta(days=7):
        return f"{day_name(when.date())} à {spoken_time(when.time())}"
    return f"le {when.day} à {spoken_time(when.time())}"


def menu_choice(
    settings: TelephonySettings,
    *,
    digits: str | None,
    at: dt.datetime,
    wait_url: str | None = None,
    enqueue_action_url: str | None = None,
) -> str:
    """Answer the key pressed: call-back request recorded, or (in hours) the queue.

    The app records the call-back request before answering when ``digits`` is
    :data:`CALLBACK_DIGIT`.
    """
    if (digits or "").strip() == CALLBACK_DIGIT:
        return callback_recorded(settings)
    if secretariat_is_open(settings, at):
        return enqueue(settings, wait_url=wait_url, action_url=enqueue_action_url)
    response = VoiceResponse()
    _say(response, settings, f"{EMERGENCY} {PDSA} Au revoir.")
    response.hangup()
    return str(response)


def callback_recorded(settings: TelephonySettings) -> str:
    """Confirm a call-back request and hang up."""
    response = VoiceResponse()
    _say(
        response,
        settings,
        "Votre demande de rappel est enregistrée. Le secrétariat vous rappellera "
        f"au numéro depuis lequel vous appelez. {EMERGENCY} Au revoir.",
    )
    response.hangup()
    return str(response)


def enqueue(
    settings: TelephonySettings,
    *,
    wait_url: str | None = None,
    action_url: str | None = None,
) -> str:
    """Put the caller in the secretariat's queue."""
    response = VoiceResponse()
    _add_enqueue(response, settings, wait_url=wait_url, action_url=action_url)
    return str(response)


def _add_enqueue(
    response: VoiceResponse,
    settings: TelephonySettings,
    *,
    wait_url: str | None,
    action_url: str | None,
) -> None:
    _say(response, settings, "Nous vous mettons en relation avec le secrétariat.")
    response.enqueue(
        settings.voice_queue_name,
        wait_url=wait_url,
        wait_url_method="POST" if wait_url else None,
        action=action_url,
        method="POST" if action_url else None,
    )


def queue_wait(settings: TelephonySettings, *, pause_seconds: int = 20) -> str:
    """What callers hear while waiting in the queue (Twilio requests it again and again)."""
    response = VoiceResponse()
    _say(
        response,
        settings,
        f"Tous nos secrétaires sont occupés, merci de patienter. {EMERGENCY}",
    )
    response.pause(length=pause_seconds)
    return str(response)
