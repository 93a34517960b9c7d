"""Classifying patients' SMS replies: only a bare keyword acts."""

from __future__ import annotations

import pytest

from telephony import InboundIntent, classify

CANCEL, OPT_OUT, OPT_IN, MESSAGE = (
    InboundIntent.CANCEL,
    InboundIntent.OPT_OUT,
    InboundIntent.OPT_IN,
    InboundIntent.MESSAGE,
)


@pytest.mark.parametrize(
    ("body", "intent"),
    [
        ("ANNULER", CANCEL),
        ("annuler", CANCEL),
        ("Annuler", CANCEL),
        (" ANNULER ! ", CANCEL),
        ("Annulé", CANCEL),
        ("annulée.", CANCEL),
        ("ANNULÉ", CANCEL),
        ("A N N U L E R", CANCEL),
        ("annuler\n", CANCEL),
        ("Anuler", CANCEL),
        ("STOP", OPT_OUT),
        ("stop", OPT_OUT),
        ("Stop.", OPT_OUT),
        ("STOP SMS", OPT_OUT),
        ("ARRET", OPT_OUT),
        ("ARRÊT", OPT_OUT),
        ("arrêt", OPT_OUT),
        ("UNSUBSCRIBE", OPT_OUT),
        ("cancel", OPT_OUT),  # a Twilio opt-out keyword: Twilio will block us anyway
        ("START", OPT_IN),
        ("start", OPT_IN),
        ("UNSTOP", OPT_IN),
        ("Je ne pourrai pas venir, pouvez-vous annuler ?", MESSAGE),
        ("Je ne veux pas annuler", MESSAGE),
        ("Merci", MESSAGE),
        ("Oui", MESSAGE),
        ("", MESSAGE),
        ("👍", MESSAGE),
        ("stop annuler", MESSAGE),
    ],
)
def test_classification(body: str, intent: InboundIntent) -> None:
    assert classify(body) is intent
