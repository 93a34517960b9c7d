"""Rounds: solver runs of the morning rounds and the routes they published

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
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
        "round_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column(
            "trigger",
            sa.Enum(
                "optimise",
                "scheduled",
                "booking",
                "cancellation",
                "delay",
                name="runtrigger",
                native_enum=False,
                length=15,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "running", "succeeded", "failed", name="runstatus", native_enum=False, length=10
            ),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("time_limit_s", sa.Double(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("travel_provider", sa.String(length=20), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("objective", sa.JSON(), nullable=False),
        sa.Column("stopped_by", sa.String(length=20), nullable=True),
        sa.Column("delays", sa.JSON(), nullable=False),
        sa.Column("dropped", sa.JSON(), nullable=False),
        sa.Column("renegotiate", sa.JSON(), nullable=False),
        sa.Column("narrowed", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_round_runs_requested_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_runs")),
    )
    with op.batch_alter_table("round_runs", schema=None) as batch_op:
        batch_op.create_index("ix_round_runs_date_status", ["date", "status"], unique=False)

    op.create_table(
        "round_routes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("depart_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("back_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("travel_minutes", sa.Double(), nullable=False),
        sa.Column("stops", sa.JSON(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioners.id"],
            name=op.f("fk_round_routes_practitioner_id_practitioners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["round_runs.id"],
            name=op.f("fk_round_routes_run_id_round_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_routes")),
    )
    with op.batch_alter_table("round_routes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_round_routes_date"), ["date"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_round_routes_practitioner_id"), ["practitioner_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_round_routes_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("round_routes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_round_routes_run_id"))
        batch_op.drop_index(batch_op.f("ix_round_routes_practitioner_id"))
        batch_op.drop_index(batch_op.f("ix_round_routes_date"))
    op.drop_table("round_routes")
    with op.batch_alter_table("round_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_round_runs_date_status")
    op.drop_table("round_runs")
