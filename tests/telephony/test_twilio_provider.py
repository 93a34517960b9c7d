"""Our real Twilio client (official SDK) against the fake Twilio server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time

import pytest

from telephony import (
    PermanentSendError,
    TelephonySettings,
    TransientSendError,
    build_provider,
)
from telephony.twilio import IDEMPOTENCY_HEADER, TwilioProvider

from .fake_twilio import Failure, FakeTwilio

PATIENT = "+33612345678"
CALLBACK = "https://cpts-bievre.example.fr/telephony/sms/status"


async def test_message_reaches_twilio_with_recipient_sender_and_body(
    twilio_provider: TwilioProvider, fake_twilio: FakeTwilio
) -> None:
    result = await twilio_provider.send_sms(
        PATIENT, "RDV confirmé", idempotency_key="appt-1:booked", status_callback=CALLBACK
    )

    [message] = fake_twilio.messages
    assert result.sid == message.sid and result.sid.startswith("SM")
    assert result.status == "queued"
    assert (message.to, message.from_, message.body) == (PATIENT, "+33700000001", "RDV confirmé")
    assert message.status_callback == CALLBACK
    assert message.idempotency_token == "appt-1:booked"
    [request] = fake_twilio.requests
    assert request.authenticated
    assert request.headers[IDEMPOTENCY_HEADER.lower()] == "appt-1:booked"


async def test_messaging_service_replaces_from_when_configured(
    fake_twilio: FakeTwilio,
) -> None:
    settings = TelephonySettings(
        _env_file=None,  # type: ignore[call-arg]
        **fake_twilio.settings_overrides(
            twilio_from="", twilio_messaging_service_sid="MG" + "1" * 32
        ),
    )
    provider = build_provider(settings)
    try:
        await provider.send_sms(PATIENT, "Bonjour", idempotency_key="k")
    finally:
        await provider.aclose()

    [message] = fake_twilio.messages
    assert message.messaging_service_sid == "MG" + "1" * 32
    assert message.from_ is None
    assert message.status_callback is None


@pytest.mark.parametrize("failure", [Failure.SERVER_ERROR, Failure.RATE_LIMITED])
async def test_server_error_and_rate_limit_are_transient_then_recover(
    twilio_provider: TwilioProvider, fake_twilio: FakeTwilio, failure: Failure
) -> None:
    fake_twilio.fail_next(failure, times=2)

    for _ in range(2):
        with pytest.raises(TransientSendError) as caught:
            await twilio_provider.send_sms(PATIENT, "x", idempotency_key="k")
        assert caught.value.status in (500, 429)
        assert not caught.value.ambiguous
    result = await twilio_provider.send_sms(PATIENT, "x", idempotency_key="k")

    assert [m.sid for m in fake_twilio.messages] == [result.sid]
    assert fake_twilio.counts_by_idempotency_token()["k"] == 1


async def test_hanging_twilio_times_out_as_transient_within_the_read_timeout(
    twilio_provider: TwilioProvider, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.fail_next(Failure.HANG)

    started = time.monotonic()
    with pytest.raises(TransientSendError) as caught:
        await twilio_provider.send_sms(PATIENT, "x", idempotency_key="k")
    elapsed = time.monotonic() - started

    assert fake_twilio.wait_until_hanging(1)
    assert caught.value.ambiguous  # the request reached Twilio
    assert 0.4 <= elapsed < 3.0  # read timeout is 0.5 s, the hang lasts up to 10 s
    fake_twilio.release()
    assert fake_twilio.messages == []


async def test_answer_lost_after_twilio_accepted_is_reported_ambiguous(
    twilio_provider: TwilioProvider, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.fail_next(Failure.HANG_AFTER_ACCEPT)

    with pytest.raises(TransientSendError) as caught:
        await twilio_provider.send_sms(PATIENT, "x", idempotency_key="appt-7:reminder")
    fake_twilio.release()

    assert caught.value.ambiguous
    # The message exists although we got no sid: the outbox must reconcile, not resend blindly.
    assert fake_twilio.counts_by_idempotency_token() == {"appt-7:reminder": 1}


async def test_a_hanging_send_does_not_block_the_event_loop(
    twilio_provider: TwilioProvider, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.fail_next(Failure.HANG)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    with pytest.raises(TransientSendError):
        await twilio_provider.send_sms(PATIENT, "x", idempotency_key="k")
    task.cancel()
    fake_twilio.release()

    assert ticks >= 10


@pytest.mark.parametrize("code", [21211, 21614, 21610])
async def test_permanent_error_codes_are_not_retried(
    twilio_provider: TwilioProvider, fake_twilio: FakeTwilio, code: int
) -> None:
    fake_twilio.fail_next(Failure.PERMANENT, code=code)

    with pytest.raises(PermanentSendError) as caught:
        await twilio_provider.send_sms(PATIENT, "x", idempotency_key="k")

    assert (caught.value.status, caught.value.code) == (400, code)
    assert fake_twilio.messages == []


async def test_invalid_number_is_refused_permanently_by_the_api(
    twilio_provider: TwilioProvider, fake_twilio: FakeTwilio
) -> None:
    with pytest.raises(PermanentSendError) as caught:
        await twilio_provider.send_sms("0612", "x", idempotency_key="k")

    assert caught.value.code == 21211


async def test_wrong_credentials_keep_the_message_for_later(
    fake_twilio: FakeTwilio,
) -> None:
    settings = TelephonySettings(
        _env_file=None,  # type: ignore[call-arg]
        **fake_twilio.settings_overrides(twilio_auth_token="not-the-token"),
    )
    provider = TwilioProvider(settings)
    try:
        with pytest.raises(TransientSendError) as caught:
            await provider.send_sms(PATIENT, "x", idempotency_key="k")
    finally:
        await provider.aclose()

    assert (caught.value.status, caught.value.code) == (401, 20003)


async def test_twilio_unreachable_is_transient_and_not_ambiguous(
    fake_twilio: FakeTwilio,
) -> None:
    settings = TelephonySettings(
        _env_file=None,  # type: ignore[call-arg]
        **fake_twilio.settings_overrides(),
    )
    fake_twilio.stop()
    provider = TwilioProvider(settings)
    try:
        with pytest.raises(TransientSendError) as caught:
            await provider.send_sms(PATIENT, "x", idempotency_key="k")
    finally:
        await provider.aclose()

    assert not caught.value.ambiguous


async def test_concurrent_sends_each_arrive_once(
    twilio_provider: TwilioProvider, fake_twilio: FakeTwilio
) -> None:
    keys = [f"appt-{i}:booked" for i in range(40)]

    results = await asyncio.gather(
        *(twilio_provider.send_sms(PATIENT, k, idempotency_key=k) for k in keys)
    )

    assert len({r.sid for r in results}) == 40
    assert fake_twilio.counts_by_idempotency_token() == {k: 1 for k in keys}


def test_blocking_variant_for_scripts(
    twilio_settings: TelephonySettings, fake_twilio: FakeTwilio
) -> None:
    provider = TwilioProvider(twilio_settings)

    result = provider.send_sms_blocking(PATIENT, "x", idempotency_key="k")

    assert fake_twilio.message(result.sid).body == "x"
    asyncio.run(provider.aclose())


async def test_a_message_whose_answer_was_lost_can_be_found_before_resending(
    fake_twilio: FakeTwilio, twilio_provider: TwilioProvider
) -> None:
    import datetime as dt

    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    await twilio_provider.send_sms("+33612345678", "Autre", idempotency_key="k0")
    fake_twilio.fail_next(Failure.HANG_AFTER_ACCEPT)
    with pytest.raises(TransientSendError) as lost:
        await twilio_provider.send_sms("+33612345678", "Rappel", idempotency_key="k1")
    assert lost.value.ambiguous
    fake_twilio.release()
    found = await twilio_provider.find_messages(to="+33612345678", body="Rappel", since=since)
    assert [r.sid for r in found] == [
        m.sid for m in fake_twilio.messages if m.idempotency_token == "k1"
    ]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    assert await twilio_provider.find_messages(to="+33612345678", body="Rappel", since=later) == []
    assert await twilio_provider.find_messages(to="+33600000000", body="Rappel", since=since) == []
