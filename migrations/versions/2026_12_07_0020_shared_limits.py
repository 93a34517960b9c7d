"""Shared limits: login throttle and webhook counters in the database, for every process

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shared_limits",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_shared_limits")),
    )
    op.create_index(op.f("ix_shared_limits_last_at"), "shared_limits", ["last_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_shared_limits_last_at"), table_name="shared_limits")
    op.drop_table("shared_limits")
