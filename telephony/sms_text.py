"""The SMS we send to patients, in French: short, signed by the CPTS, no medical detail.

Every text is a pure function of its facts. Fixed wording uses only GSM-7
characters (no ê, â, î, ô, û, ç — see :mod:`telephony.gsm`); inserted names are
folded to GSM-7, so the texts stay in one 160-character segment when they carry
no link, and in at most two with a cancellation link (a link never ends with a
full stop: some phones would take it into the URL).

Times are shown in the platform's time zone (Europe/Paris) whatever the input's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from telephony.config import TelephonySettings
from telephony.gsm import gsm_fold, segment_info, segments

__all__ = [
    "CancelOptions",
    "Modality",
    "arrival_window",
    "booking_confirmation",
    "cancel_confirmation",
    "cancel_not_found",
    "cancellation_notice",
    "change_notice",
    "reminder",
    "segment_info",
    "segments",
    "slot_offer",
    "slot_offer_answer",
    "start_confirmation",
    "stop_confirmation",
]

PARIS = ZoneInfo("Europe/Paris")

_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


class Modality(StrEnum):
    """How the patient is seen (same values as the app's session kinds)."""

    HOME_VISIT = "home_visit"
    TELECONSULTATION = "teleconsultation"
    PRACTICE = "practice"  # at the GP's surgery


@dataclass(frozen=True, slots=True)
class CancelOptions:
    """How a patient can cancel: by replying (reply-capable sender) and/or by a link."""

    reply: bool = False
    url: str | None = None

    @classmethod
    def from_settings(cls, settings: TelephonySettings, url: str | None) -> CancelOptions:
        """ "Répondez ANNULER" only from a reply-capable sender; the link when enabled."""
        return cls(
            reply=settings.reply_capable,
            url=url if settings.sms_cancel_link else None,
        )

    def sentence(self) -> str:
        if self.reply and self.url:
            return f"Pour annuler, répondez ANNULER ou ouvrez {self.url}"
        if self.reply:
            return "Pour annuler, répondez ANNULER."
        if self.url:
            return f"Pour annuler: {self.url}"
        return ""


def _local(at: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    if at.tzinfo is None:
        raise ValueError("une date avec fuseau horaire est attendue")
    return at.astimezone(tz)


def _day(at: dt.datetime) -> str:
    return f"{_DAYS[at.weekday()]} {at.day:02d}/{at.month:02d}"


def _hm(at: dt.datetime) -> str:
    return f"{at.hour}h{at.minute:02d}" if at.minute else f"{at.hour}h"


def _when(modality: Modality, start: dt.datetime, end: dt.datetime | None, tz: ZoneInfo) -> str:
    """ "mardi 14/01 à 15h30", or for a home visit "mardi 14/01 entre 10h et 11h"."""
    local_start = _local(start, tz)
    if modality is Modality.HOME_VISIT and end is not None:
        local_end = _local(end, tz)
        return f"{_day(local_start)} entre {_hm(local_start)} et {_hm(local_end)}"
    return f"{_day(local_start)} à {_hm(local_start)}"


def _what(modality: Modality, practitioner: str) -> str:
    name = gsm_fold(practitioner)
    if modality is Modality.HOME_VISIT:
        return f"visite à domicile de {name}"
    if modality is Modality.PRACTICE:
        return f"consultation au cabinet de {name}"
    return f"téléconsultation avec {name}"


def _join(*parts: str, signature: str) -> str:
    text = " ".join(p for p in parts if p)
    return f"{text}\n{gsm_fold(signature)}"


def booking_confirmation(
    *,
    modality: Modality | str,
    start: dt.datetime,
    end: dt.datetime | None = None,
    practitioner: str,
    cpts_name: str,
    cancel: CancelOptions,
    video_url: str | None = None,
    tz: ZoneInfo = PARIS,
) -> str:
    """Confirmation at booking: what, when (time, or arrival window), with whom, how to cancel.

    ``practitioner`` is the name patients know ("Dr Martin"). For a home visit,
    ``start``/``end`` are the promised arrival window. A teleconsultation says how
    the GP will reach the patient: the video link, or a call to this number.
    """
    modality = Modality(modality)
    how = ""
    if modality is Modality.TELECONSULTATION:
        how = (
            f"Lien de connexion: {video_url}"
            if video_url
            else "Le médecin vous appellera à ce numéro."
        )
    return _join(
        f"RDV confirmé: {_what(modality, practitioner)} {_when(modality, start, end, tz)}.",
        how,
        cancel.sentence(),
        signature=cpts_name,
    )


def arrival_window(
    *,
    window_start: dt.datetime,
    window_end: dt.datetime,
    practitioner: str,
    cpts_name: str,
    tz: ZoneInfo = PARIS,
) -> str:
    """The narrowed arrival window of a home visit, once the morning round is optimised."""
    when = _when(Modality.HOME_VISIT, window_start, window_end, tz)
    return _join(
        f"Visite à domicile de {gsm_fold(practitioner)}: arrivée prévue {when}.",
        "Merci de rester joignable.",
        signature=cpts_name,
    )


def reminder(
    *,
    modality: Modality | str,
    start: dt.datetime,
    end: dt.datetime | None = None,
    practitioner: str,
    cpts_name: str,
    cancel: CancelOptions,
    tz: ZoneInfo = PARIS,
) -> str:
    """Reminder before the appointment (the evening before and/or a few hours before)."""
    modality = Modality(modality)
    return _join(
        f"Rappel: {_what(modality, practitioner)} {_when(modality, start, end, tz)}.",
        cancel.sentence(),
        signature=cpts_name,
    )


def _call_us(secretariat_phone: str) -> str:
    if secretariat_phone:
        return f"Pour un nouveau RDV, appelez le {gsm_fold(secretariat_phone)}."
    return "Le secrétariat vous recontactera."


def cancellation_notice(
    *,
    start: dt.datetime,
    cpts_name: str,
    secretariat_phone: str = "",
    tz: ZoneInfo = PARIS,
) -> str:
    """Notice that the platform had to cancel the appointment."""
    local = _local(start, tz)
    return _join(
        f"Votre RDV du {_day(local)} à {_hm(local)} est annulé. Veuillez nous en excuser.",
        _call_us(secretariat_phone),
        signature=cpts_name,
    )


def change_notice(
    *,
    modality: Modality | str,
    old_start: dt.datetime,
    start: dt.datetime,
    end: dt.datetime | None = None,
    practitioner: str,
    cpts_name: str,
    cancel: CancelOptions,
    tz: ZoneInfo = PARIS,
) -> str:
    """Notice that the platform moved the appointment (new time or GP)."""
    modality = Modality(modality)
    old = _local(old_start, tz)
    return _join(
        f"Votre RDV du {_day(old)} à {_hm(old)} est modifié: "
        f"{_what(modality, practitioner)} {_when(modality, start, end, tz)}.",
        cancel.sentence(),
        signature=cpts_name,
    )


def cancel_confirmation(*, start: dt.datetime, cpts_name: str, tz: ZoneInfo = PARIS) -> str:
    """Answer to ANNULER or to the link: the appointment is cancelled."""
    local = _local(start, tz)
    return _join(
        f"Votre RDV du {_day(local)} à {_hm(local)} est bien annulé. Merci de nous avoir prévenus.",
        signature=cpts_name,
    )


def cancel_not_found(*, cpts_name: str, secretariat_phone: str = "") -> str:
    """Answer to ANNULER when the number has no appointment to come."""
    contact = f" Pour nous joindre: {gsm_fold(secretariat_phone)}." if secretariat_phone else ""
    return _join(
        f"Nous n'avons trouvé aucun RDV à venir à annuler pour ce numéro.{contact}",
        signature=cpts_name,
    )


def stop_confirmation(*, cpts_name: str) -> str:
    """Answer to STOP (only when Twilio's own opt-out reply is switched off)."""
    return _join(
        "Vous ne recevrez plus nos SMS. Pour les réactiver, répondez START.",
        signature=cpts_name,
    )


def start_confirmation(*, cpts_name: str) -> str:
    """Answer to START: SMS are back on."""
    return _join(
        "Nos SMS sont réactivés. Pour ne plus les recevoir, répondez STOP.",
        signature=cpts_name,
    )


def slot_offer(
    *,
    modality: Modality | str,
    start: dt.datetime,
    end: dt.datetime | None = None,
    practitioner: str,
    code: str,
    reply_by: dt.datetime,
    cpts_name: str,
    tz: ZoneInfo = PARIS,
) -> str:
    """A freed slot offered to a waiting patient: what, when, and the code to reply with.

    "Répondez OUI 1234 avant 10h40": the code ties the answer to this offer (a patient
    may have several); the slot is held for them until ``reply_by``.
    """
    modality = Modality(modality)
    deadline = _hm(_local(reply_by, tz))
    return _join(
        f"Un créneau s'est libéré: {_what(modality, practitioner)} "
        f"{_when(modality, start, end, tz)}.",
        f"Pour le réserver, répondez OUI {code} avant {deadline} (NON {code} pour le laisser).",
        signature=cpts_name,
    )


def slot_offer_answer(*, outcome: str, cpts_name: str, secretariat_phone: str = "") -> str:
    """Answer to an OUI that booked nothing: ``taken`` (somebody else was first) or
    ``unknown`` (no offer with this code for this number)."""
    contact = f" Pour nous joindre: {gsm_fold(secretariat_phone)}." if secretariat_phone else ""
    if outcome == "taken":
        text = (
            "Désolé, ce créneau vient d'être pris par un autre patient. Vous restez sur notre "
            "liste: nous vous recontactons dès qu'un autre se libère."
        )
    else:
        text = f"Nous n'avons pas retrouvé de proposition en cours avec ce code.{contact}"
    return _join(text, signature=cpts_name)
