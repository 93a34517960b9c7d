"""Orientation toward a médecin traitant: territory GPs, cases, their events, batches

Revision ID: 0009
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "territory_gps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("rpps", sa.String(length=11), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("postal_code", sa.String(length=5), nullable=False),
        sa.Column("commune", sa.String(length=100), nullable=False),
        sa.Column("commune_insee", sa.String(length=5), nullable=True),
        sa.Column("latitude", sa.Double(), nullable=False),
        sa.Column("longitude", sa.Double(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("communes_covered", sa.JSON(), nullable=False),
        sa.Column("monthly_capacity", sa.Integer(), nullable=False),
        sa.Column("accepts_new_patients", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_territory_gps")),
        sa.UniqueConstraint("rpps", name=op.f("uq_territory_gps_rpps")),
    )
    op.create_table(
        "orientation_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_by_id", sa.Integer(), nullable=True),
        sa.Column("waiting", sa.Integer(), nullable=False),
        sa.Column("proposed", sa.Integer(), nullable=False),
        sa.Column("unmatched", sa.Integer(), nullable=False),
        sa.Column("capacity_total", sa.Integer(), nullable=False),
        sa.Column("solve_ms", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["run_by_id"],
            ["users.id"],
            name=op.f("fk_orientation_batches_run_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orientation_batches")),
    )
    op.create_table(
        "orientation_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "to_orient",
                "proposed",
                "accepted",
                "refused",
                "declared",
                "closed",
                name="casestatus",
                native_enum=False,
                length=12,
            ),
            nullable=False,
        ),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column(
            "consent",
            sa.Enum("unknown", "given", "refused", name="consent", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consent_by_id", sa.Integer(), nullable=True),
        sa.Column("practitioner_id", sa.Integer(), nullable=True),
        sa.Column("territory_gp_id", sa.Integer(), nullable=True),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("proposal_travel_minutes", sa.Double(), nullable=True),
        sa.Column("proposal_explanation", sa.String(length=300), nullable=True),
        sa.Column("unmatched_reason", sa.String(length=300), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "close_reason",
            sa.Enum(
                "declared_elsewhere",
                "consent_refused",
                "moved_away",
                "unreachable",
                "deceased",
                "other",
                name="closereason",
                native_enum=False,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column("close_note", sa.Text(), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_changed_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["orientation_batches.id"],
            name=op.f("fk_orientation_cases_batch_id_orientation_batches"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["consent_by_id"],
            ["users.id"],
            name=op.f("fk_orientation_cases_consent_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_orientation_cases_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioners.id"],
            name=op.f("fk_orientation_cases_practitioner_id_practitioners"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["status_changed_by_id"],
            ["users.id"],
            name=op.f("fk_orientation_cases_status_changed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["territory_gp_id"],
            ["territory_gps.id"],
            name=op.f("fk_orientation_cases_territory_gp_id_territory_gps"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orientation_cases")),
        sa.UniqueConstraint("patient_id", name=op.f("uq_orientation_cases_patient_id")),
    )
    with op.batch_alter_table("orientation_cases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_orientation_cases_declared_at"), ["declared_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_orientation_cases_entered_at"), ["entered_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_orientation_cases_practitioner_id"), ["practitioner_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_orientation_cases_proposed_at"), ["proposed_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_orientation_cases_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_orientation_cases_territory_gp_id"), ["territory_gp_id"], unique=False
        )

    op.create_table(
        "orientation_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=80), nullable=False),
        sa.Column("from_status", sa.String(length=12), nullable=True),
        sa.Column("to_status", sa.String(length=12), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=True),
        sa.Column("territory_gp_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_orientation_events_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["orientation_cases.id"],
            name=op.f("fk_orientation_events_case_id_orientation_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioners.id"],
            name=op.f("fk_orientation_events_practitioner_id_practitioners"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["territory_gp_id"],
            ["territory_gps.id"],
            name=op.f("fk_orientation_events_territory_gp_id_territory_gps"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orientation_events")),
    )
    with op.batch_alter_table("orientation_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orientation_events_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_orientation_events_case_id"), ["case_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("orientation_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orientation_events_case_id"))
        batch_op.drop_index(batch_op.f("ix_orientation_events_at"))

    op.drop_table("orientation_events")
    with op.batch_alter_table("orientation_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orientation_cases_territory_gp_id"))
        batch_op.drop_index(batch_op.f("ix_orientation_cases_status"))
        batch_op.drop_index(batch_op.f("ix_orientation_cases_proposed_at"))
        batch_op.drop_index(batch_op.f("ix_orientation_cases_practitioner_id"))
        batch_op.drop_index(batch_op.f("ix_orientation_cases_entered_at"))
        batch_op.drop_index(batch_op.f("ix_orientation_cases_declared_at"))

    op.drop_table("orientation_cases")
    op.drop_table("orientation_batches")
    op.drop_table("territory_gps")
