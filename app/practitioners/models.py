"""GPs of the platform, their weekly session templates, dated sessions and absences."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, TimestampMixin


class PractitionerStatus(enum.StrEnum):
    """How a GP practises, which decides in whose name they bill and whom they may follow.

    - ``titular``: installed, bills in their own name, may be médecin traitant.
    - ``adjoint``: a student or young doctor authorised by the Ordre to assist a titular
      (code de la santé publique, art. L. 4131-2 and R. 4127-88); works only alongside
      the titular, and the acts are billed under the titular's name.
    - ``collaborateur``: collaborateur libéral (loi n° 2005-882 du 2 août 2005, art. 18;
      code de déontologie, CSP art. R. 4127-87): practises in their own name, bills under
      their own RPPS/AM number and may be declared médecin traitant (ameli, « Le médecin
      traitant »: any médecin, whatever their mode of practice). Not paired with a
      titular: the contract with the colleague is private and sets no co-duty rule.
    """

    titular = "titular"
    adjoint = "adjoint"
    collaborateur = "collaborateur"


#: The statuses that practise in their own name: they bill under their own number, may be
#: médecin traitant (proposed in orientation) and need no titular on duty.
OWN_NAME_STATUSES = frozenset({PractitionerStatus.titular, PractitionerStatus.collaborateur})


class SessionKind(enum.StrEnum):
    home_visit = "home_visit"
    teleconsultation = "teleconsultation"
    practice = "practice"


class Practitioner(TimestampMixin, Base):
    __tablename__ = "practitioners"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_name: Mapped[str] = mapped_column(String(100))
    given_name: Mapped[str] = mapped_column(String(100))
    rpps: Mapped[str] = mapped_column(String(11), unique=True)
    status: Mapped[PractitionerStatus] = mapped_column(
        Enum(PractitionerStatus, native_enum=False, length=16)
    )
    titular_id: Mapped[int | None] = mapped_column(
        ForeignKey("practitioners.id", ondelete="RESTRICT"), index=True
    )
    authorisation_start: Mapped[dt.date | None]
    authorisation_end: Mapped[dt.date | None]
    address: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str] = mapped_column(String(5))
    commune: Mapped[str] = mapped_column(String(100))
    commune_insee: Mapped[str | None] = mapped_column(String(5))
    latitude: Mapped[float]
    longitude: Mapped[float]
    phone: Mapped[str | None] = mapped_column(String(20))
    languages: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["fr"])
    accepts_new_patients: Mapped[bool] = mapped_column(default=False)
    new_patient_capacity: Mapped[int] = mapped_column(default=0)
    max_visits_per_morning: Mapped[int] = mapped_column(default=6)
    teleconsultation_slot_minutes: Mapped[int] = mapped_column(default=15)
    active: Mapped[bool] = mapped_column(default=True)

    @property
    def idnps(self) -> str:
        return "8" + self.rpps

    @property
    def display_name(self) -> str:
        return f"Dr {self.given_name} {self.family_name}"


class SessionTemplate(TimestampMixin, Base):
    """A weekly recurring session; dated sessions are materialised from it."""

    __tablename__ = "session_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(
        ForeignKey("practitioners.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int]  # 0 = Monday … 6 = Sunday
    kind: Mapped[SessionKind] = mapped_column(Enum(SessionKind, native_enum=False, length=20))
    start_time: Mapped[dt.time]
    end_time: Mapped[dt.time]
    capacity: Mapped[int]
    open_to_sas: Mapped[bool] = mapped_column(default=False)
    valid_from: Mapped[dt.date]
    valid_until: Mapped[dt.date | None]
    active: Mapped[bool] = mapped_column(default=True)


class DutySession(TimestampMixin, Base):
    """A dated availability block (a *vacation*): from a template or one-off."""

    __tablename__ = "duty_sessions"
    __table_args__ = (UniqueConstraint("template_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(
        ForeignKey("practitioners.id", ondelete="CASCADE"), index=True
    )
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("session_templates.id", ondelete="SET NULL")
    )
    date: Mapped[dt.date] = mapped_column(index=True)
    kind: Mapped[SessionKind] = mapped_column(Enum(SessionKind, native_enum=False, length=20))
    start_at: Mapped[dt.datetime] = mapped_column(index=True)
    end_at: Mapped[dt.datetime]
    capacity: Mapped[int]
    open_to_sas: Mapped[bool] = mapped_column(default=False)
    # Cancelled by an absence or by the coordinator; kept so history stays readable.
    cancelled: Mapped[bool] = mapped_column(default=False)
    cancel_reason: Mapped[str | None] = mapped_column(String(200))


class Absence(TimestampMixin, Base):
    __tablename__ = "absences"

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(
        ForeignKey("practitioners.id", ondelete="CASCADE"), index=True
    )
    start_at: Mapped[dt.datetime]
    end_at: Mapped[dt.datetime]
    reason: Mapped[str] = mapped_column(String(200), default="")
