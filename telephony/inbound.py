"""What a patient's SMS reply asks for: cancel, stop SMS, resume SMS, or a message to read.

Only a reply that *is* a keyword acts (once case, accents, spaces and punctuation
are set aside): "Annulé !" cancels, "je ne peux pas annuler" is shown to the
secretariat. Opt-out and opt-in keywords include Twilio's own (STOP, CANCEL,
END, QUIT, START, YES…) because Twilio's Advanced Opt-Out acts on them before
we do; our state must agree with what Twilio will then refuse to deliver.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class InboundIntent(StrEnum):
    """What an inbound SMS asks the platform to do."""

    CANCEL = "cancel"
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    MESSAGE = "message"


CANCEL_KEYWORDS = frozenset({"ANNULER", "ANNULE", "ANNULEE", "ANNULATION", "ANULER"})
OPT_OUT_KEYWORDS = frozenset(
    {
        "STOP", "STOPSMS", "ARRET", "ARRETER", "ARRETSMS", "STOPALL", "UNSUBSCRIBE",
        "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE", "DESABONNER", "DESINSCRIRE",
    }
)
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "YES"})

_NOT_LETTER = re.compile(r"[^A-Z0-9]+")


def normalize_keyword(body: str) -> str:
    """Upper-case ASCII letters and digits only: " Annulé ! " → "ANNULE"."""
    decomposed = unicodedata.normalize("NFKD", body)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_LETTER.sub("", ascii_only.upper())


def classify(body: str) -> InboundIntent:
    """Sort an inbound SMS body into cancel, opt-out, opt-in or a message for people."""
    keyword = normalize_keyword(body)
    if keyword in CANCEL_KEYWORDS:
        return InboundIntent.CANCEL
    if keyword in OPT_OUT_KEYWORDS:
        return InboundIntent.OPT_OUT
    if keyword in OPT_IN_KEYWORDS:
        return InboundIntent.OPT_IN
    return InboundIntent.MESSAGE
