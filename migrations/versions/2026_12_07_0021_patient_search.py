"""Patient search tolerant of accents and typos: unaccent + pg_trgm, a trigram index

PostgreSQL (SQLite ranks in Python, app/patients/service.py ``_by_name``, and gets a
plain index of the same name, as the model declares it). Both
extensions are "trusted" since PostgreSQL 13: the database owner may create them.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        # The model declares the index (app/patients/models.py): a plain one here.
        op.create_index("ix_patients_search_name_trgm", "patients", ["search_name"])
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_patients_search_name_trgm "
        "ON patients USING gin (search_name gin_trgm_ops)"
    )


def downgrade() -> None:
    op.drop_index("ix_patients_search_name_trgm", table_name="patients")
    # The extensions stay: other objects may use them.
