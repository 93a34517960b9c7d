"""Small named views for the SAS tests (fictitious identifiers only)."""

from __future__ import annotations

import datetime as dt

from app.sas import AppointmentView, PlaceView, PractitionerView, RegulatorIdentifier, SlotView

CEST = dt.timezone(dt.timedelta(hours=2))
CET = dt.timezone(dt.timedelta(hours=1))
OPERATOR = RegulatorIdentifier("urn:oid:1.2.250.1.71.4.2.1", "810000000417")


def make_view(**overrides) -> AppointmentView:
    """The booking of our ``appointment-booked`` fixture (tests/data/sas)."""
    values = dict(
        identifier_system="https://premier-recours.test/fhir/sid/appointment",
        identifier_value="0f6c1d2e-7a43-4b8e-9c15-3e2d4a5b6c70",
        status="booked",
        start=dt.datetime(2026, 1, 15, 14, 0, tzinfo=CET),
        end=dt.datetime(2026, 1, 15, 14, 15, tzinfo=CET),
        created=dt.datetime(2026, 1, 12, 10, 0, tzinfo=CET),
        practitioner_idnps="810000000123",
        operator=OPERATOR,
        slot_id="s-1",
    )
    values.update(overrides)
    return AppointmentView(**values)


def make_practitioner(index: int = 1, **overrides) -> PractitionerView:
    """A fictitious GP; RPPS ``100000000NN`` (not real numbers)."""
    values = dict(
        id=f"pr-{index}",
        family=f"Martin{index}",
        given="Claire",
        rpps=f"{10000000000 + index:011d}",
        agenda_url=f"https://premier-recours.test/agenda/pr-{index}",
        places=(
            PlaceView(
                id="cabinet",
                address_line=f"{index} rue Camille Desmoulins",
                city="Cachan",
                postal_code="94230",
                insee_code="94016",
                phone="+33100000001",
            ),
        ),
    )
    values.update(overrides)
    return PractitionerView(**values)


def make_slot(practitioner: PractitionerView, n: int = 0, **overrides) -> SlotView:
    start = dt.datetime(2024, 6, 12, 16, 30, tzinfo=CEST) + dt.timedelta(minutes=15 * n)
    values = dict(
        id=f"{practitioner.id}-s{n}",
        practitioner_id=practitioner.id,
        start=start,
        end=start + dt.timedelta(minutes=15),
        consultation_type="VR",
    )
    values.update(overrides)
    return SlotView(**values)
