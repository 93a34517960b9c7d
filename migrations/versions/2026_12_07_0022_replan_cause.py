"""Re-plan requests name their cause (booking or cancellation), so the worker's run does

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("round_replan_requests") as batch:
        batch.add_column(
            sa.Column("cause", sa.String(length=16), nullable=False, server_default="booking")
        )


def downgrade() -> None:
    with op.batch_alter_table("round_replan_requests") as batch:
        batch.drop_column("cause")
