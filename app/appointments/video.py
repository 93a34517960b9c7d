"""Teleconsultation video: a room URL per appointment from the CPTS's provider.

A teleconsultation (TCG) is a video act (ameli); the patient gets the link by SMS and the
GP joins from /medecin. The built-in provider needs no API: a room on a server the CPTS
runs (e.g. Jitsi Meet creates a room on first join), named by an unguessable token.
"""

from __future__ import annotations

import secrets
from typing import Protocol

from app.appointments.models import Appointment


class VideoProvider(Protocol):
    def create_room(self, appointment: Appointment) -> str:
        """The URL the patient and the GP open to join this appointment's video call."""
        ...


class RoomOnBase:
    """A unique room ``<base>/pr-<token>``: 128 random bits, never derived from the patient."""

    def __init__(self, base_url: str) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise ValueError(f"VIDEO_BASE_URL doit commencer par https:// : {base_url!r}")
        self.base_url = base_url.rstrip("/")

    def create_room(self, appointment: Appointment) -> str:
        return f"{self.base_url}/pr-{secrets.token_urlsafe(16)}"


def from_base_url(base_url: str) -> VideoProvider | None:
    """The configured provider; an empty base means no video (teleconsultation by phone)."""
    return RoomOnBase(base_url) if base_url.strip() else None
