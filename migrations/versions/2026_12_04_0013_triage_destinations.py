"""Triage: who decided the urgency, the request's destination, the deadline's note, the
teleconsultation override under 3 months (statuses `oriented` and `unfilled` fit the
existing VARCHAR(15) status column: no type change)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("care_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("urgency_decided_by", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("destination", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("deadline_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("teleconsultation_override_reason", sa.Text(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_care_requests_destination"), ["destination"], unique=False
        )
    # Past requests: redirected ones went to the 15, the others stayed on the platform.
    op.execute(
        "UPDATE care_requests SET destination = CASE WHEN status = 'redirected_15' "
        "THEN 'samu_15' ELSE 'platform' END"
    )


def downgrade() -> None:
    op.execute("UPDATE care_requests SET status = 'new' WHERE status IN ('oriented', 'unfilled')")
    with op.batch_alter_table("care_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_care_requests_destination"))
        batch_op.drop_column("teleconsultation_override_reason")
        batch_op.drop_column("deadline_note")
        batch_op.drop_column("destination")
        batch_op.drop_column("urgency_decided_by")
