"""Webhook signatures checked with Twilio's algorithm against the public URL."""

from __future__ import annotations

import datetime as dt

import pytest

from telephony import ConsoleProvider, TelephonySettings, build_provider, is_genuine, public_url
from telephony.twilio import TwilioProvider
from telephony.webhooks import check_signature, compute_signature

from .fake_twilio import FakeTwilio
from .signing import incoming_sms_params, sign, signed_webhook

TOKEN = "fake-twilio-auth-token"
URL = "https://cpts-bievre.example.fr/telephony/sms"


def _settings(**overrides: object) -> TelephonySettings:
    return TelephonySettings(_env_file=None, **overrides)  # type: ignore[call-arg, arg-type]


def test_correctly_signed_request_is_accepted(twilio_provider: TwilioProvider) -> None:
    webhook = signed_webhook(TOKEN, URL, incoming_sms_params(from_="+33612345678", body="ANNULER"))

    assert twilio_provider.validate_webhook(webhook.url, webhook.params, webhook.signature)


def test_unsigned_request_is_refused(twilio_provider: TwilioProvider) -> None:
    params = incoming_sms_params(from_="+33612345678", body="ANNULER")

    assert not twilio_provider.validate_webhook(URL, params, None)
    assert not twilio_provider.validate_webhook(URL, params, "")


def test_request_signed_with_another_token_is_refused(twilio_provider: TwilioProvider) -> None:
    webhook = signed_webhook("someone-else", URL, incoming_sms_params(from_="+336", body="x"))

    assert not twilio_provider.validate_webhook(webhook.url, webhook.params, webhook.signature)


def test_tampered_parameters_are_refused(twilio_provider: TwilioProvider) -> None:
    webhook = signed_webhook(TOKEN, URL, incoming_sms_params(from_="+33612345678", body="Bonjour"))
    tampered = {**webhook.params, "Body": "ANNULER"}

    assert not twilio_provider.validate_webhook(webhook.url, tampered, webhook.signature)


def test_signature_for_another_url_is_refused(twilio_provider: TwilioProvider) -> None:
    webhook = signed_webhook(TOKEN, URL, incoming_sms_params(from_="+33612345678", body="x"))

    assert not twilio_provider.validate_webhook(
        "https://cpts-bievre.example.fr/telephony/voice", webhook.params, webhook.signature
    )
    assert not twilio_provider.validate_webhook(
        "http://cpts-bievre.example.fr/telephony/sms", webhook.params, webhook.signature
    )


def test_repeated_form_fields_and_pairs_are_signed_like_twilio() -> None:
    pairs = [("To", "+33600000000"), ("MediaUrl", "b"), ("MediaUrl", "a")]
    # Twilio concatenates each name with every one of its values, sorted.
    signature = compute_signature(TOKEN, URL, pairs)

    assert check_signature(TOKEN, URL, pairs, signature)
    assert check_signature(TOKEN, URL, {"To": "+33600000000", "MediaUrl": ["a", "b"]}, signature)
    assert not check_signature(TOKEN, URL, [("To", "+33600000000"), ("MediaUrl", "a")], signature)


def test_empty_token_never_validates() -> None:
    signature = compute_signature("", URL, {"a": "b"})

    assert not check_signature("", URL, {"a": "b"}, signature)


def test_query_string_is_part_of_the_signed_url(twilio_provider: TwilioProvider) -> None:
    url = URL + "?event=appt-1"
    webhook = signed_webhook(TOKEN, url, {"MessageSid": "SM1"})

    assert twilio_provider.validate_webhook(url, webhook.params, webhook.signature)
    assert not twilio_provider.validate_webhook(URL, webhook.params, webhook.signature)


def test_public_url_uses_the_configured_base_not_the_internal_host() -> None:
    settings = _settings(public_base_url="https://cpts-bievre.example.fr/premier-recours/")

    assert (
        public_url(settings, "/telephony/sms", "a=1")
        == "https://cpts-bievre.example.fr/premier-recours/telephony/sms?a=1"
    )
    # Forwarded headers are ignored unless trusted: anyone could send them.
    assert public_url(
        settings, "/telephony/sms", headers={"X-Forwarded-Host": "evil.example"}
    ) == "https://cpts-bievre.example.fr/premier-recours/telephony/sms"


def test_public_url_honours_forwarded_proto_and_host_when_trusted() -> None:
    settings = _settings(
        public_base_url="http://127.0.0.1:8000", trust_forwarded_headers=True
    )
    headers = {"x-forwarded-proto": "https", "X-Forwarded-Host": "cpts.example.fr, proxy"}

    url = public_url(settings, "/telephony/voice", headers=headers)

    assert url == "https://cpts.example.fr/telephony/voice"
    webhook = signed_webhook(TOKEN, url, {"CallSid": "CA1"})
    assert check_signature(TOKEN, url, webhook.params, webhook.signature)
    assert webhook.signature == sign(TOKEN, url, {"CallSid": "CA1"})


def test_console_refuses_unsigned_webhooks_unless_told_otherwise() -> None:
    strict = build_provider(_settings())
    lenient = build_provider(_settings(webhook_signature_check=False))

    assert isinstance(strict, ConsoleProvider)
    assert not strict.validate_webhook(URL, {"a": "b"}, None)
    assert lenient.validate_webhook(URL, {"a": "b"}, None)


def test_console_with_a_token_checks_signatures() -> None:
    provider = build_provider(_settings(twilio_auth_token=TOKEN))
    webhook = signed_webhook(TOKEN, URL, {"a": "b"})

    assert provider.validate_webhook(URL, webhook.params, webhook.signature)
    assert not provider.validate_webhook(URL, {"a": "c"}, webhook.signature)


def test_twilio_backend_refuses_to_start_without_a_token(fake_twilio: FakeTwilio) -> None:
    with pytest.raises(ValueError, match="TWILIO_AUTH_TOKEN"):
        _settings(**fake_twilio.settings_overrides(twilio_auth_token=""))


def test_twilio_backend_cannot_switch_signature_checks_off(fake_twilio: FakeTwilio) -> None:
    with pytest.raises(ValueError, match="WEBHOOK_SIGNATURE_CHECK"):
        _settings(**fake_twilio.settings_overrides(webhook_signature_check=False))


def test_twilio_backend_needs_a_sender(fake_twilio: FakeTwilio) -> None:
    with pytest.raises(ValueError, match="TWILIO_FROM"):
        _settings(**fake_twilio.settings_overrides(twilio_from=""))


def test_twilio_provider_itself_refuses_an_empty_token() -> None:
    settings = _settings()  # console settings, empty token

    with pytest.raises(ValueError, match="TWILIO_AUTH_TOKEN"):
        TwilioProvider(settings)


def test_settings_come_from_the_environment_through_the_app_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMS_BACKEND", "twilio")
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC123")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "tok-3f9a")
    monkeypatch.setenv("TWILIO_FROM", "CPTSBIEVRE")
    monkeypatch.setenv("SECRETARIAT_HOURS", '{"1": [["09:00", "17:00"]]}')

    from app.core.config import Settings

    # The package's model reads nothing itself; the app's root settings fill it.
    assert TelephonySettings().sms_backend == "console"
    settings = Settings(_env_file=None).telephony  # type: ignore[call-arg]

    assert settings.sms_backend == "twilio"
    assert settings.twilio_auth_token.get_secret_value() == "tok-3f9a"
    assert "tok-3f9a" not in repr(settings)
    assert settings.secretariat_hours == {1: [(dt.time(9), dt.time(17))]}


def test_is_genuine_checks_a_request_as_the_app_receives_it(
    twilio_provider: TwilioProvider, twilio_settings: TelephonySettings
) -> None:
    webhook = signed_webhook(TOKEN, URL + "?e=1", {"MessageSid": "SM1", "Body": "STOP"})
    # The app sees its internal host; the signature is over the public URL.
    headers = {"host": "10.0.0.5:8000", "x-twilio-signature": webhook.signature}

    assert is_genuine(
        twilio_provider, twilio_settings,
        path="/telephony/sms", query="e=1", headers=headers, params=webhook.params,
    )
    assert not is_genuine(
        twilio_provider, twilio_settings,
        path="/telephony/sms", query="e=1", headers={"host": "x"}, params=webhook.params,
    )
