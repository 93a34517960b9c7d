"""Small named views for the SAS tests (fictitious identifiers only)."""

from __future__ import annotations

import datetime as dt

from app.sas import AppointmentView, PlaceView, PractitionerView, RegulatorIdentifier, SlotView

CEST = dt.timezone(dt.timedelta(hours=2))
CET = dt.timezone(dt.timedelta(hours=1))
OPERATOR = RegulatorIdentifier("urn:oid:1.2.250.1.71.4.2.1", "3456780581/11242343")


def make_view(**overrides) -> AppointmentView:
    """The booking of the guide's Appointment-1 example."""
    values = dict(
        identifier_system="urn:oid:1.1.111.1.11.1.1.1",
        identifier_value="b6e39355-8a61-4556-b340-36f7b95fec6a",
        status="booked",
        start=dt.datetime(2022, 9, 4, 14, 0, tzinfo=CET),
        end=dt.datetime(2022, 9, 4, 14, 15, tzinfo=CET),
        created=dt.datetime(2022, 9, 1, 10, 0, tzinfo=CET),
        practitioner_idnps="810100050075",
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
