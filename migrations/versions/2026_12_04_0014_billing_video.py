"""Billing corrections and teleconsultation video: referral by the médecin traitant, the
coordinator's MCG choice, the video room of an appointment, an outcome without video

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "care_requests",
        sa.Column(
            "referred_by_medecin_traitant",
            sa.Boolean(),
            nullable=False,
            server_default=sa.false(),
        ),
    )
    op.add_column("appointments", sa.Column("video_url", sa.String(length=500), nullable=True))
    op.add_column("gp_outcomes", sa.Column("video", sa.Boolean(), nullable=True))
    op.create_table(
        "billing_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mcg_on_every_platform_act", sa.Boolean(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_billing_settings_updated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_settings")),
    )


def downgrade() -> None:
    op.drop_table("billing_settings")
    op.drop_column("gp_outcomes", "video")
    op.drop_column("appointments", "video_url")
    op.drop_column("care_requests", "referred_by_medecin_traitant")
