"""Small checks shared by the request schemas."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel


def refuse_nulls(model: BaseModel, fields: Iterable[str]) -> None:
    """A partial update may leave a field out, never set a required column to null."""
    for name in fields:
        if name in model.model_fields_set and getattr(model, name) is None:
            raise ValueError(f"{name} : ce champ ne peut pas être vide (null).")


def check_window(start: Any, end: Any | None) -> None:
    """A booked window ends after it starts (the round planner cannot place it otherwise)."""
    if end is not None and end <= start:
        raise ValueError("end_at : la fin doit être postérieure au début (start_at).")
