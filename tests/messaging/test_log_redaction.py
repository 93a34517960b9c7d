"""No patient value in any log line: a whole scenario captured at DEBUG, every line scanned.

Issue 20, finding 3: a database error had logged a probe patient's NIR twenty times and
phone numbers 29 times. The scenario creates a patient, a request, a booking (its SMS goes
out through the fake Twilio), hits an integrity error and writes uvicorn-like access lines;
every record, formatted as text, JSON and uvicorn's access format, must be free of the
patient's name, NIR, phone, address and e-mail.
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from sqlalchemy.exc import IntegrityError
from uvicorn.logging import AccessFormatter

from app.core.logging import JsonFormatter, redact
from app.patients.models import Patient
from tests.messaging.conftest import tomorrow_at, worker

PATIENT = {
    "family_name": "Quintabelle",
    "given_name": "Ermengarde",
    "birth_date": "1980-05-17",
    "sex": "female",
    "nir": "2 80 05 94 016 123 97",
    "phone": "06 39 98 00 47",
    "email": "ermengarde.quintabelle@example.org",
    "address": "17 rue des Glycines Fictives",
    "postal_code": "94230",
    "commune": "Cachan",
    "medecin_traitant_status": "none",
    "sms_consent": True,
}
# Every form a value can take in a log line.
SECRETS = [
    "Quintabelle",
    "QUINTABELLE",
    "Ermengarde",
    "ERMENGARDE",
    "2800594016123",
    "280059401612397",
    "2 80 05 94 016 123 97",
    "+33639980047",
    "0639980047",
    "06 39 98 00 47",
    "639980047",
    "ermengarde.quintabelle@example.org",
    "Glycines Fictives",
]


def _lines(records: list[logging.LogRecord]) -> list[str]:
    text = logging.Formatter("%(levelname)s %(name)s %(message)s")
    json_lines = JsonFormatter()
    access = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s')
    lines = []
    for record in records:
        lines.append(text.format(record))
        lines.append(json_lines.format(record))
        if record.name == "uvicorn.access":
            lines.append(access.format(record))
    return lines


async def test_a_whole_scenario_logs_no_patient_value(client, world, db, fake_twilio, caplog):
    caplog.set_level(logging.DEBUG)
    # SQLAlchemy's loggers stop at WARNING by default: open them fully (statements,
    # parameters, every row fetched).
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")

    response = await client.post("/api/patients", json=PATIENT, headers=world.secretary)
    assert response.status_code == 201, response.text
    patient_id = response.json()["id"]
    response = await client.get(
        "/api/patients",
        params={"name": "Quintabelle", "birth_date": "1980-05-17"},
        headers=world.secretary,
    )
    assert response.status_code == 200
    response = await client.post(
        "/api/requests",
        json={"patient_id": patient_id, "reason": "Fièvre", "urgency": "within_48h"},
        headers=world.secretary,
    )
    assert response.status_code == 201, response.text
    response = await client.post(
        "/api/appointments",
        json={
            "request_id": response.json()["request"]["id"],
            "practitioner_id": world.other_titular.id,
            "start_at": tomorrow_at(world, 14).isoformat(),
        },
        headers=world.secretary,
    )
    assert response.status_code == 201, response.text
    await worker(app=client._transport.app).drain()  # type: ignore[attr-defined]
    assert fake_twilio.messages, "the confirmation SMS went out"

    # An integrity error with the patient's values in its parameters, logged the way an
    # unhandled error is (traceback and message).
    duplicate = Patient(
        family_name="Quintabelle",
        given_name="Ermengarde",
        search_name="quintabelle ermengarde",
        birth_date=dt.date(1980, 5, 17),
        sex="female",
        nir="280059401612397",
        phone="+33639980047",
        address="17 rue des Glycines Fictives",
        medecin_traitant_status="none",
        language="fr",
    )
    db.add(duplicate)
    with pytest.raises(IntegrityError) as caught:
        await db.flush()
    await db.rollback()
    logging.getLogger("app.test").error(
        "échec de l'enregistrement : %s", caught.value, exc_info=caught.value
    )

    # Access lines as uvicorn writes them, query string and all.
    access = logging.getLogger("uvicorn.access")
    access.info(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:5000",
        "GET",
        "/api/patients?name=Quintabelle&phone=%2B33639980047&nir=280059401612397",
        "1.1",
        200,
    )
    # And what a careless caller might write by hand.
    logging.getLogger("app.test").info(
        "patient %s", {"family_name": "Quintabelle", "phone": "+33639980047", "id": 3}
    )
    logging.getLogger("app.test").info("SMS envoyé au 06 39 98 00 47, 17 rue des Glycines Fictives")

    lines = _lines(caplog.records)
    assert len(caplog.records) > 50  # the scenario did log (SQL statements and all)
    assert any("INSERT INTO patients" in line for line in lines)
    leaks = [(value, line) for line in lines for value in SECRETS if value in line]
    assert not leaks, leaks[:5]


def test_redact_masks_values_by_shape_and_by_field():
    assert "masqué" in redact("Key (nir)=(280059401612397) already exists.")
    assert "0639980047" not in redact("appel de 0639980047")
    assert "+447700900123" not in redact("to +447700900123")
    assert "Dupont" not in redact("{'family_name': 'Dupont', 'id': 2}")
    assert "Fictive" not in redact("au 5 rue Fictive, Cachan")
    # Ordinary figures stay readable.
    assert redact("rounds run 12 for 2026-12-07 failed in 0.35s") == (
        "rounds run 12 for 2026-12-07 failed in 0.35s"
    )
