"""INT_R03: the FrAppointmentSAS resource has the shape of the guide's examples."""

from __future__ import annotations

import datetime as dt

import pytest

from app.sas import RegulatorIdentifier, build_appointment, validate
from app.sas.validation import check_appointment, parse_r4
from tests.sas.factories import CET, make_view
from tests.sas.fake_sas import load_fixture


def _strip(resource):
    """The parts the fixtures carry (they have an id and no ``created`` nor ``slot``)."""
    return {k: v for k, v in resource.items() if k not in ("id", "created", "slot")}


@pytest.mark.parametrize(
    ("fixture", "status"),
    [("appointment-booked", "booked"), ("appointment-cancelled", "cancelled")],
)
def test_matches_the_guides_form(fixture, status):
    ours = build_appointment(make_view(status=status))
    validate(ours)
    theirs = load_fixture(fixture)
    assert check_appointment(theirs) == []
    parse_r4(theirs)
    # The fixture writes the guide's type system and instants without milliseconds (INT_R03
    # keeps that form; only INT_R04 slots carry milliseconds).
    assert ours["start"] == "2026-01-15T14:00:00+01:00"
    assert _strip(ours) == _strip(theirs)


def test_technical_operator_id_is_typed_intrn():
    view = make_view(operator=RegulatorIdentifier("urn:oid:1.2.250.1.213.3.6", "uuid-1"))
    resource = build_appointment(view)
    ident = resource["extension"][0]["valueReference"]["identifier"]
    assert ident["type"]["coding"][0]["code"] == "INTRN"
    validate(resource)


def test_slot_is_referenced_by_absolute_url_when_base_given():
    resource = build_appointment(make_view(), fhir_base_url="https://pr.test/fhir/")
    assert resource["slot"] == [{"reference": "https://pr.test/fhir/Slot/s-1"}]
    parse_r4(resource)


def test_cancellation_reason_is_sent_when_cancelled():
    resource = build_appointment(make_view(status="cancelled", cancellation_reason="Patient"))
    assert resource["cancelationReason"] == {"text": "Patient"}


@pytest.mark.parametrize(
    "overrides",
    [
        {"status": "arrived"},
        {"start": dt.datetime(2026, 1, 15, 14, 0)},
        {"end": dt.datetime(2026, 1, 15, 13, 0, tzinfo=CET)},
        {"practitioner_idnps": "10000000123"},
        {"identifier_value": ""},
    ],
)
def test_view_refuses_what_the_sas_could_not_take(overrides):
    with pytest.raises(ValueError):
        make_view(**overrides)
