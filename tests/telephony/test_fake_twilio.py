"""The fake Twilio itself: auth, Twilio-shaped answers, signed status callbacks."""

from __future__ import annotations

import httpx

from telephony.twilio import TwilioProvider

from .fake_twilio import API_VERSION, FakeTwilio

PATIENT = "+33612345678"
CALLBACK = "https://cpts-bievre.example.fr/telephony/sms/status"


def _messages_url(fake: FakeTwilio) -> str:
    return f"{fake.base_url}/{API_VERSION}/Accounts/{fake.account_sid}/Messages.json"


def test_wrong_basic_auth_is_refused_like_twilio(fake_twilio: FakeTwilio) -> None:
    answer = httpx.post(
        _messages_url(fake_twilio),
        data={"To": PATIENT, "From": "+33700000001", "Body": "x"},
        auth=(fake_twilio.account_sid, "wrong"),
    )

    assert answer.status_code == 401
    assert answer.json()["code"] == 20003
    assert fake_twilio.messages == []


def test_created_message_can_be_fetched(fake_twilio: FakeTwilio) -> None:
    auth = (fake_twilio.account_sid, fake_twilio.auth_token)
    created = httpx.post(
        _messages_url(fake_twilio),
        data={"To": PATIENT, "From": "+33700000001", "Body": "x"},
        auth=auth,
    )
    sid = created.json()["sid"]

    fetched = httpx.get(
        f"{fake_twilio.base_url}/{API_VERSION}/Accounts/{fake_twilio.account_sid}"
        f"/Messages/{sid}.json",
        auth=auth,
    )

    assert created.status_code == 201
    assert fetched.json()["sid"] == sid
    assert fetched.json()["status"] == "queued"


def test_missing_sender_or_body_are_twilio_errors(fake_twilio: FakeTwilio) -> None:
    auth = (fake_twilio.account_sid, fake_twilio.auth_token)

    no_from = httpx.post(_messages_url(fake_twilio), data={"To": PATIENT, "Body": "x"}, auth=auth)
    no_body = httpx.post(
        _messages_url(fake_twilio), data={"To": PATIENT, "From": "+33700000001"}, auth=auth
    )

    assert (no_from.status_code, no_from.json()["code"]) == (400, 21603)
    assert (no_body.status_code, no_body.json()["code"]) == (400, 21602)


async def test_status_callback_is_signed_for_our_validator(
    twilio_provider: TwilioProvider, fake_twilio: FakeTwilio
) -> None:
    result = await twilio_provider.send_sms(
        PATIENT, "x", idempotency_key="k", status_callback=CALLBACK
    )

    webhook = fake_twilio.status_callback(result.sid, "undelivered", error_code=30006)

    assert webhook.url == CALLBACK
    assert webhook.path == "/telephony/sms/status"
    assert webhook.params["MessageStatus"] == "undelivered"
    assert webhook.params["ErrorCode"] == "30006"
    assert twilio_provider.validate_webhook(webhook.url, webhook.params, webhook.signature)


def test_wait_for_requests_synchronises_without_sleeping(fake_twilio: FakeTwilio) -> None:
    assert not fake_twilio.wait_for_requests(1, timeout=0.01)
    httpx.post(_messages_url(fake_twilio), data={})

    assert fake_twilio.wait_for_requests(1, timeout=1)
