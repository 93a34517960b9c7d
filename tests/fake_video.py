"""A video provider for tests: numbered rooms on a fake base, every room it made kept."""

from __future__ import annotations

from app.appointments.models import Appointment


class FakeVideo:
    def __init__(self, base: str = "https://visio.test.invalid") -> None:
        self.base = base
        self.rooms: list[str] = []

    def create_room(self, appointment: Appointment) -> str:
        url = f"{self.base}/salle-{len(self.rooms) + 1}"
        self.rooms.append(url)
        return url
