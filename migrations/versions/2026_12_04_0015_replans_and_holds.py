"""Asynchronous re-plans of a day's rounds and holds on the options shown to a caller

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "round_replan_requests",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("date", name=op.f("pk_round_replan_requests")),
    )
    op.create_table(
        "proposal_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["care_requests.id"],
            name=op.f("fk_proposal_holds_request_id_care_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioners.id"],
            name=op.f("fk_proposal_holds_practitioner_id_practitioners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_holds")),
    )
    op.create_index(
        "ix_proposal_holds_date_expires", "proposal_holds", ["date", "expires_at"], unique=False
    )
    op.create_index(
        op.f("ix_proposal_holds_request_id"), "proposal_holds", ["request_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_proposal_holds_request_id"), table_name="proposal_holds")
    op.drop_index("ix_proposal_holds_date_expires", table_name="proposal_holds")
    op.drop_table("proposal_holds")
    op.drop_table("round_replan_requests")
