"""Holds of a regulator on the SAS page: proposal_holds.regulator_id, request_id optional

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("proposal_holds") as batch:
        batch.alter_column("request_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("regulator_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_proposal_holds_regulator_id_users"),
            "users",
            ["regulator_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index(op.f("ix_proposal_holds_regulator_id"), ["regulator_id"], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM proposal_holds WHERE request_id IS NULL")
    with op.batch_alter_table("proposal_holds") as batch:
        batch.drop_index(op.f("ix_proposal_holds_regulator_id"))
        batch.drop_constraint(op.f("fk_proposal_holds_regulator_id_users"), type_="foreignkey")
        batch.drop_column("regulator_id")
        batch.alter_column("request_id", existing_type=sa.Integer(), nullable=False)
