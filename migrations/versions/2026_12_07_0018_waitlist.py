"""Waiting list, freed slots and the offers of them (SMS with a reply code, call list)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column(
            "modality",
            sa.Enum(
                "home_visit",
                "teleconsultation",
                "practice",
                name="sessionkind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("preferred_practitioner_id", sa.Integer(), nullable=True),
        sa.Column("preferred_commune_insee", sa.String(length=5), nullable=True),
        sa.Column("reachable", sa.String(length=200), nullable=True),
        sa.Column("consent_sms", sa.Boolean(), nullable=False),
        sa.Column("consent_call", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "waiting",
                "booked",
                "expired",
                "cancelled",
                name="entrystatus",
                native_enum=False,
                length=12,
            ),
            nullable=False,
        ),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("left_note", sa.Text(), nullable=True),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["added_by_id"],
            ["users.id"],
            name=op.f("fk_waitlist_entries_added_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_waitlist_entries_appointment_id_appointments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_waitlist_entries_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["preferred_practitioner_id"],
            ["practitioners.id"],
            name=op.f("fk_waitlist_entries_preferred_practitioner_id_practitioners"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["care_requests.id"],
            name=op.f("fk_waitlist_entries_request_id_care_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entries")),
    )
    with op.batch_alter_table("waitlist_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_waitlist_entries_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_waitlist_entries_status"), ["status"], unique=False)
        batch_op.create_index(
            "ix_waitlist_entries_status_deadline", ["status", "deadline"], unique=False
        )

    op.create_table(
        "waitlist_freed_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "home_visit",
                "teleconsultation",
                "practice",
                name="sessionkind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "cancel_sms",
                "cancel_patient",
                "cancel_platform",
                "noshow",
                "session_opened",
                "moved",
                name="freedsource",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("source_key", sa.String(length=60), nullable=False),
        sa.Column("freed_appointment_id", sa.Integer(), nullable=True),
        sa.Column("freed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "refilled", "lost", name="slotstatus", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("refilled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refilled_appointment_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["freed_appointment_id"],
            ["appointments.id"],
            name=op.f("fk_waitlist_freed_slots_freed_appointment_id_appointments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioners.id"],
            name=op.f("fk_waitlist_freed_slots_practitioner_id_practitioners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["refilled_appointment_id"],
            ["appointments.id"],
            name=op.f("fk_waitlist_freed_slots_refilled_appointment_id_appointments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_freed_slots")),
        sa.UniqueConstraint("source_key", name="uq_waitlist_freed_slots_source_key"),
    )
    with op.batch_alter_table("waitlist_freed_slots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_waitlist_freed_slots_freed_at"), ["freed_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_waitlist_freed_slots_practitioner_id"), ["practitioner_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_waitlist_freed_slots_status"), ["status"], unique=False
        )

    op.create_table(
        "waitlist_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("freed_slot_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum("sms", "call", name="offerchannel", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "accepted",
                "declined",
                "expired",
                "taken",
                "withdrawn",
                name="offerstatus",
                native_enum=False,
                length=10,
            ),
            nullable=False,
        ),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_waitlist_offers_appointment_id_appointments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["waitlist_entries.id"],
            name=op.f("fk_waitlist_offers_entry_id_waitlist_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["freed_slot_id"],
            ["waitlist_freed_slots.id"],
            name=op.f("fk_waitlist_offers_freed_slot_id_waitlist_freed_slots"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_waitlist_offers_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_offers")),
        sa.UniqueConstraint("freed_slot_id", "entry_id", name="uq_waitlist_offers_slot_entry"),
    )
    with op.batch_alter_table("waitlist_offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_waitlist_offers_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_waitlist_offers_freed_slot_id"), ["freed_slot_id"], unique=False
        )
        batch_op.create_index(
            "ix_waitlist_offers_status_expires", ["status", "expires_at"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("waitlist_offers", schema=None) as batch_op:
        batch_op.drop_index("ix_waitlist_offers_status_expires")
        batch_op.drop_index(batch_op.f("ix_waitlist_offers_freed_slot_id"))
        batch_op.drop_index(batch_op.f("ix_waitlist_offers_entry_id"))

    op.drop_table("waitlist_offers")
    with op.batch_alter_table("waitlist_freed_slots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_waitlist_freed_slots_status"))
        batch_op.drop_index(batch_op.f("ix_waitlist_freed_slots_practitioner_id"))
        batch_op.drop_index(batch_op.f("ix_waitlist_freed_slots_freed_at"))

    op.drop_table("waitlist_freed_slots")
    with op.batch_alter_table("waitlist_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_waitlist_entries_status_deadline")
        batch_op.drop_index(batch_op.f("ix_waitlist_entries_status"))
        batch_op.drop_index(batch_op.f("ix_waitlist_entries_request_id"))

    op.drop_table("waitlist_entries")
