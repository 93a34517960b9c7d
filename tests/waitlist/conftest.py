"""Waiting-list tests: the app wired to the fake Twilio (real HTTP), as in tests/messaging."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from app.requests.models import CareRequest
from app.waitlist.models import FreedSlot, SlotOffer, WaitlistEntry
from tests.core.conftest import world  # noqa: F401
from tests.factories import make_patient
from tests.messaging.conftest import (  # noqa: F401
    PATIENT_PHONE,
    app,
    book,
    fake_twilio,
    post_webhook,
    signed,
    telephony_overrides,
    telephony_settings,
    tomorrow_at,
    worker,
)
from tests.telephony.signing import incoming_sms_params

__all__ = ["PATIENT_PHONE", "book", "tomorrow_at", "worker"]

CODE = re.compile(r"OUI (\d{4})")


async def sms_from(client, fake, phone: str, body: str):
    webhook = signed(fake, "/telephony/sms", incoming_sms_params(from_=phone, body=body))
    response = await post_webhook(client, webhook)
    assert response.status_code == 200, response.text
    return response


async def waiting_patient(
    client, db, world_, phone: str, *, consent_sms: bool = True, family: str = "Attente", **extra
) -> dict[str, Any]:
    """A patient whose request (teleconsultation, within 48 h) waits on the list."""
    patient = await make_patient(db, phone=phone, family_name=family, sms_consent=False)
    await db.commit()
    created = await client.post(
        "/api/requests",
        json={"patient_id": patient.id, "reason": "Toux", "urgency": "within_48h"},
        headers=world_.secretary,
    )
    assert created.status_code == 201, created.text
    body = {"request_id": created.json()["request"]["id"], "consent_sms": consent_sms, **extra}
    response = await client.post("/api/waitlist", json=body, headers=world_.secretary)
    assert response.status_code == 201, response.text
    return {"patient": patient, "entry": response.json(), "phone": phone}


def texts_to(fake, phone: str) -> list[str]:
    return [m.body for m in fake.messages if m.to == phone]


def code_in(body: str) -> str:
    found = CODE.search(body)
    assert found, body
    return found.group(1)


async def fresh(db, model, **where):
    stmt = select(model).execution_options(populate_existing=True)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    rows = list((await db.scalars(stmt.order_by(model.id))).all())
    await db.commit()
    return rows


__all__ += ["CareRequest", "FreedSlot", "SlotOffer", "WaitlistEntry", "fresh", "texts_to"]
