"""One home for the platform's hours (issue 19, items 2 and 6): triage and billing read the
same calendar, built from the settings; a regional change of the PDSA hours, or of the
morning round, moves the deadline, the offers and the surcharges together.

The region here starts its PDSA nights at 19:00 and its round runs 09:00–12:30.
"""

from __future__ import annotations

import datetime as dt

import pytest

from app.appointments import billing
from app.core.calendar import DEFAULT_CALENDAR
from app.core.config import Settings
from app.core.timeutil import PARIS
from app.practitioners.models import SessionKind
from app.requests import triage
from app.requests.models import Urgency
from tests.factories import make_patient
from tests.requests.test_triage_rules import _request, _secretary


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "pdsa_night_start": dt.time(19),
            "rounds": settings.rounds.model_copy(
                update={"round_starts": dt.time(9), "round_ends": dt.time(12, 30)}
            ),
        }
    )


MONDAY_1915 = dt.datetime(2026, 12, 7, 19, 15, tzinfo=PARIS)


def _sas_teleconsultation_at(moment: dt.datetime) -> billing.BillingFacts:
    return billing.BillingFacts(
        kind=SessionKind.teleconsultation,
        from_sas=True,
        referred_at=moment - dt.timedelta(hours=1),
        care_at=moment,
        practitioner_is_medecin_traitant=False,
        patient_has_medecin_traitant=False,
        snp_used_this_week=0,
        birth_date=dt.date(1980, 5, 17),
    )


async def test_a_regional_pdsa_setting_moves_triage_and_billing_together(app, client, db):
    headers = await _secretary(client, db)
    person = await make_patient(db)
    # Triage: at 19:15 the platform is closed (PDSA from 19:00): the same-day deadline is
    # tomorrow's close, 19:00, and the teleconsultation is promised before it.
    body = await _request(
        client, headers, person.id, urgency="same_day", received_at=MONDAY_1915.isoformat()
    )
    offered = body["triage"]["offers"]
    assert body["triage"]["deadline"].startswith("2026-12-08T19:00")
    assert [(o["kind"], o["within_deadline"]) for o in offered] == [("teleconsultation", True)]
    assert offered[0]["by"].startswith("2026-12-08T19:00") and "avant 19:00" in offered[0]["note"]
    assert triage.in_pdsa_hours(MONDAY_1915, app.state.calendar)
    # Billing, with the app's own tariff table (the one booking and outcome price with):
    # the same instant is PDSA time, so a regulated CRN instead of the SNP.
    assert app.state.tariffs.pdsa is app.state.calendar.pdsa
    priced = billing.compute(_sas_teleconsultation_at(MONDAY_1915), app.state.tariffs)
    assert (priced.act_code, priced.surcharges) == ("TCG", ["CRN"])
    assert priced.reasons["SNP"].startswith("non : horaires de permanence des soins")
    # The national default (20:00) says the opposite for the same instant: that is the setting.
    default = billing.compute(_sas_teleconsultation_at(MONDAY_1915), billing.TariffTable())
    assert default.surcharges == ["SNP"]
    assert not DEFAULT_CALENDAR.in_pdsa_hours(MONDAY_1915)
    assert triage.deadline_for(Urgency.same_day, MONDAY_1915) == dt.datetime(
        2026, 12, 7, 20, tzinfo=PARIS
    )


async def test_the_rounds_hours_come_from_the_rounds_settings(client, db):
    headers = await _secretary(client, db)
    person = await make_patient(db)
    body = await _request(
        client,
        headers,
        person.id,
        urgency="same_day",
        modality="home_visit",
        received_at="2026-12-07T09:30:00+01:00",
    )
    offered = body["triage"]["offers"]
    assert [(o["kind"], o["within_deadline"]) for o in offered] == [
        ("teleconsultation", True),
        ("home_visit", False),
        ("unfilled", False),
    ]
    assert offered[1]["by"].startswith("2026-12-08T12:30")
    assert "tournée du matin (09:00–12:30) a déjà commencé" in offered[1]["note"]
