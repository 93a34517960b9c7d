"""Messaging tests: the app wired to a fake Twilio (real HTTP server) through our real client."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.core.timeutil import PARIS, at
from app.main import create_app
from app.messaging.models import SmsMessage
from app.outbox.worker import OutboxWorker, RetryPolicy
from telephony import TelephonySettings
from tests.conftest import _empty_tables
from tests.core.conftest import world  # noqa: F401
from tests.telephony.fake_twilio import FakeTwilio
from tests.telephony.signing import SignedWebhook, signed_webhook

PUBLIC = "https://cpts-bievre.example.fr"
PATIENT_PHONE = "+33639980001"  # tests.factories.make_patient's default


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio(hang_timeout=10.0) as fake:
        yield fake


@pytest.fixture
def telephony_overrides() -> dict[str, Any]:
    """Per-test changes to the telephony settings (override the fixture to change them)."""
    return {}


@pytest.fixture
def telephony_settings(fake_twilio: FakeTwilio, telephony_overrides) -> TelephonySettings:
    values: dict[str, Any] = {
        "public_base_url": PUBLIC,
        "twilio_connect_timeout": 1.0,
        "twilio_read_timeout": 0.4,
        "sms_reply_mode": "reply_capable",
        "secretariat_phone": "01 23 45 67 89",
    }
    values.update(telephony_overrides)
    return TelephonySettings(
        _env_file=None,  # type: ignore[call-arg]
        **fake_twilio.settings_overrides(**values),
    )


@pytest.fixture
async def app(settings, clock, telephony_settings) -> AsyncIterator:
    """The app with SMS_BACKEND=twilio pointed at the fake, lifespan running."""
    application = create_app(settings, clock=clock)
    application.state.telephony_settings = telephony_settings
    await _empty_tables(application)
    async with application.router.lifespan_context(application):
        yield application
        await _empty_tables(application)


def worker(app, **policy: Any) -> OutboxWorker:
    return OutboxWorker(app, policy=RetryPolicy(**policy) if policy else None)


async def post_webhook(client: httpx.AsyncClient, webhook: SignedWebhook) -> httpx.Response:
    return await client.post(webhook.path, data=webhook.params, headers=webhook.headers)


def signed(fake: FakeTwilio, path: str, params: dict[str, str]) -> SignedWebhook:
    """A webhook to our public URL, signed with the account's token as Twilio would."""
    return signed_webhook(fake.auth_token, PUBLIC + path, params)


async def book(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    patient_id: int,
    practitioner_id: int,
    start: dt.datetime,
    kind: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    response = await client.post(
        "/api/requests",
        json={"patient_id": patient_id, "reason": "Fièvre", "urgency": "within_48h"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    payload: dict[str, Any] = {
        "request_id": response.json()["request"]["id"],
        "practitioner_id": practitioner_id,
        "start_at": start.isoformat(),
    }
    if kind:
        payload["kind"] = kind
    payload.update(extra)
    response = await client.post("/api/appointments", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def tomorrow_at(world_, hour: int, minute: int = 0) -> dt.datetime:
    return at(world_.today + dt.timedelta(days=1), dt.time(hour, minute), PARIS)


async def sms_rows(db) -> list[SmsMessage]:
    stmt = select(SmsMessage).order_by(SmsMessage.id).execution_options(populate_existing=True)
    rows = list((await db.scalars(stmt)).all())
    await db.commit()  # ends the read (SQLite) without expiring the test's objects
    return rows
