"""Merge the domain branches (rounds, messaging, GP agenda, orientation) into one head

Revision ID: 0010
Revises: 0004, 0006, 0008, 0009
Create Date: 2026-11-23
"""

from collections.abc import Sequence

revision: str = "0010"
down_revision: str | Sequence[str] | None = ("0004", "0006", "0008", "0009")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
