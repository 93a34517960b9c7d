"""Orientation toward a médecin traitant: the cases, their history, the territory's GPs."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, TimestampMixin


class CaseStatus(enum.StrEnum):
    to_orient = "to_orient"
    proposed = "proposed"
    accepted = "accepted"
    refused = "refused"
    declared = "declared"
    closed = "closed"


class Route(enum.StrEnum):
    """Where a case is oriented. AME holders and people without coverage cannot declare a
    médecin traitant the usual way (the AME gives no parcours de soins coordonnés, ameli
    « L'aide médicale de l'État »): they go to the hospital's PASS (permanence d'accès aux
    soins de santé, CSP art. L. 6111-1-1) or the CCAS, which open their rights first."""

    medecin_traitant = "medecin_traitant"
    pass_ccas = "pass_ccas"


class Consent(enum.StrEnum):
    unknown = "unknown"  # entered automatically, not asked yet
    given = "given"  # agrees to be oriented and to have their contact passed to the GP
    refused = "refused"


class CloseReason(enum.StrEnum):
    declared_elsewhere = "declared_elsewhere"
    consent_refused = "consent_refused"
    moved_away = "moved_away"
    unreachable = "unreachable"
    deceased = "deceased"
    other = "other"


CLOSE_REASON_LABELS = {
    CloseReason.declared_elsewhere: "Médecin traitant trouvé par ailleurs",
    CloseReason.consent_refused: "Le patient ne souhaite pas être orienté",
    CloseReason.moved_away: "A quitté le territoire",
    CloseReason.unreachable: "Injoignable",
    CloseReason.deceased: "Décédé",
    CloseReason.other: "Autre motif",
}

STATUS_LABELS = {
    CaseStatus.to_orient: "À orienter",
    CaseStatus.proposed: "Médecin proposé",
    CaseStatus.accepted: "Proposition acceptée",
    CaseStatus.refused: "Proposition refusée",
    CaseStatus.declared: "Médecin traitant déclaré",
    CaseStatus.closed: "Clos",
}

# Cases a GP's monthly capacity is spent on.
HOLDING_STATUSES = (CaseStatus.proposed, CaseStatus.accepted, CaseStatus.declared)
WAITING_STATUSES = (CaseStatus.to_orient, CaseStatus.refused)


class TerritoryGP(TimestampMixin, Base):
    """A titular GP of the territory, outside the platform, accepting new patients."""

    __tablename__ = "territory_gps"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_name: Mapped[str] = mapped_column(String(100))
    given_name: Mapped[str] = mapped_column(String(100))
    rpps: Mapped[str] = mapped_column(String(11), unique=True)
    address: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str] = mapped_column(String(5))
    commune: Mapped[str] = mapped_column(String(100))
    commune_insee: Mapped[str | None] = mapped_column(String(5))
    latitude: Mapped[float]
    longitude: Mapped[float]
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(200))
    languages: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["fr"])
    # INSEE codes of the communes whose patients they take; empty = the whole territory.
    communes_covered: Mapped[list[str]] = mapped_column(JSON, default=list)
    # New patients they can take in the current month.
    monthly_capacity: Mapped[int] = mapped_column(default=0)
    accepts_new_patients: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)

    @property
    def display_name(self) -> str:
        return f"Dr {self.given_name} {self.family_name}"


class OrientationBatch(TimestampMixin, Base):
    """One run of "Proposer des médecins traitants", kept with its outcome."""

    __tablename__ = "orientation_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_at: Mapped[dt.datetime]
    run_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    waiting: Mapped[int] = mapped_column(default=0)
    proposed: Mapped[int] = mapped_column(default=0)
    unmatched: Mapped[int] = mapped_column(default=0)
    capacity_total: Mapped[int] = mapped_column(default=0)
    solve_ms: Mapped[int] = mapped_column(default=0)
    # Unmatched counts by reason code (no patient identity).
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OrientationCase(TimestampMixin, Base):
    """One patient without médecin traitant, from entry to declaration (or closing)."""

    __tablename__ = "orientation_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[CaseStatus] = mapped_column(
        Enum(CaseStatus, native_enum=False, length=12), index=True
    )
    entered_at: Mapped[dt.datetime] = mapped_column(index=True)
    # What brought the patient in ("appointment:42", "sweep", "manual").
    source: Mapped[str] = mapped_column(String(60), default="manual")
    # A médecin traitant proposed by the batch, or the PASS/CCAS route (AME, no coverage).
    route: Mapped[Route] = mapped_column(
        Enum(Route, native_enum=False, length=20), default=Route.medecin_traitant
    )
    consent: Mapped[Consent] = mapped_column(
        Enum(Consent, native_enum=False, length=10), default=Consent.unknown
    )
    consent_at: Mapped[dt.datetime | None]
    consent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The GP proposed: a platform titular or a territory GP (exactly one when proposed).
    practitioner_id: Mapped[int | None] = mapped_column(
        ForeignKey("practitioners.id", ondelete="SET NULL"), index=True
    )
    territory_gp_id: Mapped[int | None] = mapped_column(
        ForeignKey("territory_gps.id", ondelete="SET NULL"), index=True
    )
    proposed_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("orientation_batches.id", ondelete="SET NULL")
    )
    proposal_travel_minutes: Mapped[float | None]
    proposal_explanation: Mapped[str | None] = mapped_column(String(300))
    # Why the last batch found no GP (French), cleared when a GP is proposed.
    unmatched_reason: Mapped[str | None] = mapped_column(String(300))
    answered_at: Mapped[dt.datetime | None]
    declared_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    closed_at: Mapped[dt.datetime | None]
    close_reason: Mapped[CloseReason | None] = mapped_column(
        Enum(CloseReason, native_enum=False, length=20)
    )
    close_note: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[dt.datetime]
    status_changed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class OrientationEvent(Base):
    """Every transition of a case: who, when, from what to what, which GP."""

    __tablename__ = "orientation_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("orientation_cases.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(80))
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    practitioner_id: Mapped[int | None] = mapped_column(
        ForeignKey("practitioners.id", ondelete="SET NULL")
    )
    territory_gp_id: Mapped[int | None] = mapped_column(
        ForeignKey("territory_gps.id", ondelete="SET NULL")
    )
    note: Mapped[str | None] = mapped_column(Text)
