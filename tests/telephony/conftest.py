"""Fixtures: a fake Twilio server and telephony settings pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from telephony import TelephonySettings
from telephony.twilio import TwilioProvider

from .fake_twilio import FakeTwilio


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """A fresh fake Twilio REST API on 127.0.0.1, stopped after the test."""
    with FakeTwilio(hang_timeout=10.0) as fake:
        yield fake


@pytest.fixture
def twilio_settings(fake_twilio: FakeTwilio) -> TelephonySettings:
    """Settings for the Twilio backend talking to the fake, with short time-outs."""
    return TelephonySettings(
        _env_file=None,  # type: ignore[call-arg]
        **fake_twilio.settings_overrides(
            public_base_url="https://cpts-bievre.example.fr",
            twilio_connect_timeout=1.0,
            twilio_read_timeout=0.5,
        ),
    )


@pytest.fixture
async def twilio_provider(twilio_settings: TelephonySettings) -> AsyncIterator[TwilioProvider]:
    """Our real Twilio provider (official SDK) pointed at the fake."""
    provider = TwilioProvider(twilio_settings)
    yield provider
    await provider.aclose()
