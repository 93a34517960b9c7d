"""Patient search tolerant of accents and typos: unaccent + pg_trgm, a trigram index

PostgreSQL only (SQLite ranks in Python, app/patients/service.py ``_by_name``). Both
extensions are "trusted" since PostgreSQL 13: the database owner may create them.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_patients_search_name_trgm "
        "ON patients USING gin (search_name gin_trgm_ops)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_patients_search_name_trgm")
    # The extensions stay: other objects may use them.
