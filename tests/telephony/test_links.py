"""Signed cancellation tokens: valid, forged, expired, short."""

from __future__ import annotations

import base64
import datetime as dt
import uuid

import pytest

from telephony import (
    CancelLinkSigner,
    ExpiredCancelLink,
    ForgedCancelLink,
    InvalidCancelLink,
    cancel_url,
)

SECRET = "a-secret-of-at-least-sixteen-bytes"
NOW = dt.datetime(2025, 3, 11, 9, 0, tzinfo=dt.UTC)
APPOINTMENT_END = NOW + dt.timedelta(days=1)


@pytest.fixture
def signer() -> CancelLinkSigner:
    return CancelLinkSigner(SECRET)


def test_valid_token_gives_back_the_appointment(signer: CancelLinkSigner) -> None:
    token = signer.issue(4217, expires_at=APPOINTMENT_END)

    claim = signer.verify(token, now=NOW)

    assert claim.appointment_id == 4217
    assert claim.expires_at == APPOINTMENT_END
    assert len(claim.nonce) == 8


def test_uuid_ids_are_supported(signer: CancelLinkSigner) -> None:
    appointment = uuid.uuid4()

    assert signer.verify(signer.issue(appointment, expires_at=APPOINTMENT_END), now=NOW) \
        .appointment_id == appointment


def test_tokens_are_short_enough_for_an_sms(signer: CancelLinkSigner) -> None:
    assert len(signer.issue(10**9, expires_at=APPOINTMENT_END)) <= 32
    assert len(signer.issue(uuid.uuid4(), expires_at=APPOINTMENT_END)) <= 48


def test_each_token_has_its_own_nonce(signer: CancelLinkSigner) -> None:
    first = signer.issue(1, expires_at=APPOINTMENT_END)
    second = signer.issue(1, expires_at=APPOINTMENT_END)

    assert first != second
    assert signer.verify(first, now=NOW).nonce != signer.verify(second, now=NOW).nonce


def test_expired_token_is_refused(signer: CancelLinkSigner) -> None:
    token = signer.issue(4217, expires_at=APPOINTMENT_END)

    with pytest.raises(ExpiredCancelLink) as caught:
        signer.verify(token, now=APPOINTMENT_END)

    assert caught.value.claim.appointment_id == 4217


def test_token_signed_with_another_secret_is_forged(signer: CancelLinkSigner) -> None:
    token = CancelLinkSigner("another-secret-of-sixteen-bytes").issue(
        4217, expires_at=APPOINTMENT_END
    )

    with pytest.raises(ForgedCancelLink):
        signer.verify(token, now=NOW)


def test_changing_the_appointment_id_breaks_the_signature(signer: CancelLinkSigner) -> None:
    token = signer.issue(4217, expires_at=APPOINTMENT_END)
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[1] ^= 0x01  # another appointment id, same MAC
    tampered = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()

    with pytest.raises(ForgedCancelLink):
        signer.verify(tampered, now=NOW)


def test_extending_the_expiry_breaks_the_signature(signer: CancelLinkSigner) -> None:
    token = signer.issue(4217, expires_at=NOW - dt.timedelta(hours=1))
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[3] = 0xFF  # push the expiry far into the future

    with pytest.raises(InvalidCancelLink):
        signer.verify(base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode(), now=NOW)


@pytest.mark.parametrize("junk", ["", "a", "!!!!", "AAAA" * 10, "é", "abc.def", "A" * 500])
def test_garbage_is_forged_not_a_crash(signer: CancelLinkSigner, junk: str) -> None:
    with pytest.raises(ForgedCancelLink):
        signer.verify(junk, now=NOW)


def test_short_secret_and_naive_expiry_are_refused(signer: CancelLinkSigner) -> None:
    with pytest.raises(ValueError):
        CancelLinkSigner("short")
    with pytest.raises(ValueError):
        signer.issue(1, expires_at=dt.datetime(2025, 3, 12))


def test_cancel_url_joins_base_path_and_token() -> None:
    assert cancel_url("https://cpts.fr/", "TOKEN") == "https://cpts.fr/a/TOKEN"
    assert cancel_url("https://cpts.fr", "TOKEN", path="/annuler/") == "https://cpts.fr/annuler/TOKEN"
