"""Who may manage a practitioner's roster: the coordination, or the practitioner themself."""

from __future__ import annotations

from app.accounts.models import Role, User
from app.core.errors import Forbidden

ROSTER = (Role.coordinator, Role.admin)


def own_or_roster(user: User, practitioner_id: int) -> None:
    if user.role in ROSTER:
        return
    if user.role == Role.practitioner and user.practitioner_id == practitioner_id:
        return
    raise Forbidden("Vous ne pouvez gérer que vos propres vacations.")
