"""Identity and status: INS fields, AME / no coverage (PASS/CCAS route), merged patients,
collaborateur status

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUS = ("titular", "adjoint")
_STATUS_WIDE = ("titular", "adjoint", "collaborateur")


def upgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.add_column(sa.Column("ame", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(
            sa.Column("no_coverage", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("ins_matricule", sa.String(length=15), nullable=True))
        batch.add_column(sa.Column("ins_oid", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column(
                "identity_status",
                sa.Enum(
                    "provisoire",
                    "recuperee",
                    "validee",
                    "qualifiee",
                    name="identitystatus",
                    native_enum=False,
                    length=10,
                ),
                nullable=False,
                server_default="provisoire",
            )
        )
        batch.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_patients_merged_into_id_patients"),
            "patients",
            ["merged_into_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index(op.f("ix_patients_merged_into_id"), ["merged_into_id"])
    with op.batch_alter_table("orientation_cases") as batch:
        batch.add_column(
            sa.Column(
                "route",
                sa.Enum(
                    "medecin_traitant", "pass_ccas", name="route", native_enum=False, length=20
                ),
                nullable=False,
                server_default="medecin_traitant",
            )
        )
    with op.batch_alter_table("practitioners") as batch:
        batch.alter_column(
            "status",
            existing_type=sa.Enum(
                *_STATUS, name="practitionerstatus", native_enum=False, length=10
            ),
            type_=sa.Enum(*_STATUS_WIDE, name="practitionerstatus", native_enum=False, length=16),
            existing_nullable=False,
        )


def downgrade() -> None:
    op.execute("UPDATE practitioners SET status = 'titular' WHERE status = 'collaborateur'")
    with op.batch_alter_table("practitioners") as batch:
        batch.alter_column(
            "status",
            existing_type=sa.Enum(
                *_STATUS_WIDE, name="practitionerstatus", native_enum=False, length=16
            ),
            type_=sa.Enum(*_STATUS, name="practitionerstatus", native_enum=False, length=10),
            existing_nullable=False,
        )
    with op.batch_alter_table("orientation_cases") as batch:
        batch.drop_column("route")
    with op.batch_alter_table("patients") as batch:
        batch.drop_index(op.f("ix_patients_merged_into_id"))
        batch.drop_constraint(op.f("fk_patients_merged_into_id_patients"), type_="foreignkey")
        batch.drop_column("merged_into_id")
        batch.drop_column("identity_status")
        batch.drop_column("ins_oid")
        batch.drop_column("ins_matricule")
        batch.drop_column("no_coverage")
        batch.drop_column("ame")
