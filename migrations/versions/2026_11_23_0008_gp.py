"""GP agenda: private calendar feeds, recorded outcomes, calendar revisions

Revision ID: 0008
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "gp_ical_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_hint", sa.String(length=8), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioners.id"],
            name=op.f("fk_gp_ical_feeds_practitioner_id_practitioners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_gp_ical_feeds_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gp_ical_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_gp_ical_feeds_token_hash")),
    )
    op.create_index(op.f("ix_gp_ical_feeds_practitioner_id"), "gp_ical_feeds", ["practitioner_id"])

    op.create_table(
        "gp_outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("billed_under_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("care_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("act_code", sa.String(length=10), nullable=True),
        sa.Column("surcharges", sa.JSON(), nullable=False),
        sa.Column("total", sa.String(length=12), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("wants_medecin_traitant_help", sa.Boolean(), nullable=True),
        sa.Column("orientation_case_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_gp_outcomes_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioners.id"],
            name=op.f("fk_gp_outcomes_practitioner_id_practitioners"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["billed_under_id"],
            ["practitioners.id"],
            name=op.f("fk_gp_outcomes_billed_under_id_practitioners"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_gp_outcomes_recorded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gp_outcomes")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_gp_outcomes_appointment_id")),
    )
    op.create_index(op.f("ix_gp_outcomes_practitioner_id"), "gp_outcomes", ["practitioner_id"])
    op.create_index(op.f("ix_gp_outcomes_billed_under_id"), "gp_outcomes", ["billed_under_id"])

    op.create_table(
        "gp_calendar_revisions",
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_gp_calendar_revisions_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("appointment_id", name=op.f("pk_gp_calendar_revisions")),
    )

    op.create_table(
        "gp_calendar_departures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_gp_calendar_departures_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioners.id"],
            name=op.f("fk_gp_calendar_departures_practitioner_id_practitioners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gp_calendar_departures")),
        sa.UniqueConstraint(
            "appointment_id",
            "practitioner_id",
            name=op.f("uq_gp_calendar_departures_appointment_id_practitioner_id"),
        ),
    )
    op.create_index(
        op.f("ix_gp_calendar_departures_appointment_id"),
        "gp_calendar_departures",
        ["appointment_id"],
    )
    op.create_index(
        op.f("ix_gp_calendar_departures_practitioner_id"),
        "gp_calendar_departures",
        ["practitioner_id"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_gp_calendar_departures_practitioner_id"), table_name="gp_calendar_departures"
    )
    op.drop_index(
        op.f("ix_gp_calendar_departures_appointment_id"), table_name="gp_calendar_departures"
    )
    op.drop_table("gp_calendar_departures")
    op.drop_table("gp_calendar_revisions")
    op.drop_index(op.f("ix_gp_outcomes_billed_under_id"), table_name="gp_outcomes")
    op.drop_index(op.f("ix_gp_outcomes_practitioner_id"), table_name="gp_outcomes")
    op.drop_table("gp_outcomes")
    op.drop_index(op.f("ix_gp_ical_feeds_practitioner_id"), table_name="gp_ical_feeds")
    op.drop_table("gp_ical_feeds")
