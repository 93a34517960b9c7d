"""Short signed cancellation tokens for the link in our SMS.

A token carries the appointment id, an expiry (after the appointment) and a random
nonce, authenticated with an HMAC-SHA256 truncated to 80 bits, all in base64url:
about 30 characters for an integer id, so the link fits beside a one-line text.
The nonce lets the app record a token as used; "usable once" is the database's
job (the appointment is cancelled, the nonce stored), not this module's.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import struct
import uuid
from dataclasses import dataclass

_VERSION_INT = 1
_VERSION_UUID = 2
_MAC_BYTES = 10  # 80 bits: forging needs ~2**80 online guesses
_NONCE_BYTES = 4
_CONTEXT = b"premier-recours/cancel-link/v1"


class InvalidCancelLink(Exception):
    """The cancellation link cannot be used."""


class ForgedCancelLink(InvalidCancelLink):
    """Malformed, or not signed with our secret (tampered or made up)."""


class ExpiredCancelLink(InvalidCancelLink):
    """Signed by us but past its expiry (the appointment is over)."""

    def __init__(self, claim: CancelLinkClaim) -> None:
        super().__init__("lien d'annulation expiré")
        self.claim = claim


@dataclass(frozen=True, slots=True)
class CancelLinkClaim:
    """What a valid token says."""

    appointment_id: int | uuid.UUID
    expires_at: dt.datetime
    nonce: str  # hex; store it to make the link usable once


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _read_varint(raw: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(raw) or shift > 63:
            raise ForgedCancelLink("jeton mal formé")
        byte = raw[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


class CancelLinkSigner:
    """Issues and checks cancellation tokens with one secret."""

    def __init__(self, secret: str | bytes) -> None:
        raw = secret.encode() if isinstance(secret, str) else secret
        if len(raw) < 16:
            raise ValueError("le secret des liens d'annulation doit faire au moins 16 octets")
        # A derived key, so the app's SECRET_KEY can be reused without its MACs
        # being interchangeable with other uses of the same secret.
        self._key = hmac.new(raw, _CONTEXT, hashlib.sha256).digest()

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def issue(
        self,
        appointment_id: int | uuid.UUID,
        *,
        expires_at: dt.datetime,
        nonce: bytes | None = None,
    ) -> str:
        """A token for ``appointment_id`` valid until ``expires_at`` (an aware datetime)."""
        if expires_at.tzinfo is None:
            raise ValueError("expires_at doit porter un fuseau horaire")
        if isinstance(appointment_id, uuid.UUID):
            head = bytes([_VERSION_UUID]) + appointment_id.bytes
        elif isinstance(appointment_id, int) and appointment_id >= 0:
            head = bytes([_VERSION_INT]) + _varint(appointment_id)
        else:
            raise TypeError("appointment_id: entier positif ou UUID attendu")
        nonce = nonce if nonce is not None else secrets.token_bytes(_NONCE_BYTES)
        if len(nonce) != _NONCE_BYTES:
            raise ValueError(f"nonce de {_NONCE_BYTES} octets attendu")
        expiry = int(expires_at.timestamp())
        if not 0 <= expiry < 2**32:
            raise ValueError("expires_at hors limites")
        payload = head + struct.pack(">I", expiry) + nonce
        return _b64encode(payload + self._mac(payload))

    def verify(self, token: str, *, now: dt.datetime) -> CancelLinkClaim:
        """The claim of a genuine, unexpired token; raise Forged/ExpiredCancelLink."""
        try:
            raw = _b64decode(token)
        except (ValueError, UnicodeEncodeError) as exc:
            raise ForgedCancelLink("jeton mal formé") from exc
        if len(raw) <= _MAC_BYTES:
            raise ForgedCancelLink("jeton mal formé")
        payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise ForgedCancelLink("signature invalide")
        claim = _parse(payload)
        if now >= claim.expires_at:
            raise ExpiredCancelLink(claim)
        return claim


def _parse(payload: bytes) -> CancelLinkClaim:
    version = payload[0]
    appointment_id: int | uuid.UUID
    if version == _VERSION_UUID:
        pos = 17
        appointment_id = uuid.UUID(bytes=payload[1:pos])
    elif version == _VERSION_INT:
        appointment_id, pos = _read_varint(payload, 1)
    else:
        raise ForgedCancelLink("version de jeton inconnue")
    rest = payload[pos:]
    if len(rest) != 4 + _NONCE_BYTES:
        raise ForgedCancelLink("jeton mal formé")
    (expiry,) = struct.unpack(">I", rest[:4])
    return CancelLinkClaim(
        appointment_id=appointment_id,
        expires_at=dt.datetime.fromtimestamp(expiry, dt.UTC),
        nonce=rest[4:].hex(),
    )


def cancel_url(base_url: str, token: str, path: str = "/a/") -> str:
    """The link printed in the SMS: ``{PUBLIC_BASE_URL}{path}{token}``."""
    prefix = "/".join(part for part in (base_url.rstrip("/"), path.strip("/")) if part)
    return f"{prefix}/{token}"
