"""Patients reached by the platform: identity, contact, médecin traitant, vulnerability."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, TimestampMixin


class Sex(enum.StrEnum):
    female = "female"
    male = "male"
    other = "other"
    unknown = "unknown"


class MedecinTraitantStatus(enum.StrEnum):
    none = "none"
    declared = "declared"
    unknown = "unknown"


class Patient(TimestampMixin, Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_name: Mapped[str] = mapped_column(String(100))
    given_name: Mapped[str] = mapped_column(String(100))
    # Accent- and case-folded names, for search and duplicate detection.
    search_name: Mapped[str] = mapped_column(String(210), index=True)
    birth_date: Mapped[dt.date] = mapped_column(index=True)
    sex: Mapped[Sex] = mapped_column(Enum(Sex, native_enum=False, length=10))
    nir: Mapped[str | None] = mapped_column(String(15), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(5))
    commune: Mapped[str | None] = mapped_column(String(100))
    commune_insee: Mapped[str | None] = mapped_column(String(5))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    medecin_traitant_status: Mapped[MedecinTraitantStatus] = mapped_column(
        Enum(MedecinTraitantStatus, native_enum=False, length=10)
    )
    medecin_traitant_name: Mapped[str | None] = mapped_column(String(200))
    medecin_traitant_id: Mapped[int | None] = mapped_column(
        ForeignKey("practitioners.id", ondelete="SET NULL")
    )
    ald: Mapped[bool] = mapped_column(default=False)
    css: Mapped[bool] = mapped_column(default=False)
    reduced_mobility: Mapped[bool] = mapped_column(default=False)
    isolation: Mapped[bool] = mapped_column(default=False)
    disability: Mapped[bool] = mapped_column(default=False)
    language: Mapped[str] = mapped_column(String(10), default="fr")
    sms_consent: Mapped[bool] = mapped_column(default=False)
