"""Patients reached by the platform: identity, contact, médecin traitant, vulnerability."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, TimestampMixin
from app.ui.formats import person_name


class Sex(enum.StrEnum):
    female = "female"
    male = "male"
    other = "other"
    unknown = "unknown"


class MedecinTraitantStatus(enum.StrEnum):
    none = "none"
    declared = "declared"
    unknown = "unknown"


class IdentityStatus(enum.StrEnum):
    """Statut de l'identité (ANS, Référentiel national d'identitovigilance, RNIV 1, §3):
    provisoire (declared, not checked), récupérée (INS returned by the INSi teleservice,
    not checked against an ID document), validée (checked against a high-trust ID
    document), qualifiée (both: the only status under which the INS may be used and
    shared). Nothing here calls INSi: the fields are ready for it."""

    provisoire = "provisoire"
    recuperee = "recuperee"
    validee = "validee"
    qualifiee = "qualifiee"


#: OIDs of the INS matricule's authority (ANS, Référentiel INS, annexe: 1.2.250.1.213.1.4.8
#: for a NIR, .9 for a NIA, .10/.11 for the test NIR/NIA).
INS_OIDS = frozenset(
    {"1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11"}
)


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
    # No ordinary coverage: AME (aide médicale de l'État) or none at all. Neither can
    # declare a médecin traitant the usual way (ameli: the AME gives no parcours de soins
    # coordonnés): orientation sends them to the PASS of the hospital or the CCAS.
    ame: Mapped[bool] = mapped_column(default=False)
    no_coverage: Mapped[bool] = mapped_column(default=False)
    # INS (identifiant national de santé, ANS Référentiel INS): matricule (NIR or NIA),
    # the OID of its authority and the identity status; filled by hand until INSi is wired.
    ins_matricule: Mapped[str | None] = mapped_column(String(15))
    ins_oid: Mapped[str | None] = mapped_column(String(64))
    identity_status: Mapped[IdentityStatus] = mapped_column(
        Enum(IdentityStatus, native_enum=False, length=10), default=IdentityStatus.provisoire
    )
    # A duplicate merged into another record: kept for the audit trail, out of every list.
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("patients.id", ondelete="SET NULL"), index=True
    )

    __table_args__ = (
        # Typo-tolerant name search (pg_trgm, migration 0021); a plain index on SQLite.
        Index(
            "ix_patients_search_name_trgm",
            "search_name",
            postgresql_using="gin",
            postgresql_ops={"search_name": "gin_trgm_ops"},
        ),
    )

    @property
    def display_name(self) -> str:
        """`DUPONT Marie`: the one name order of every page and list (app/ui/formats.py)."""
        return person_name(self.family_name, self.given_name)
