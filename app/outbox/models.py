"""The durable outbox: every message to the outside world (SMS, SAS pushes) waits here."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Enum, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, TimestampMixin


class OutboxStatus(enum.StrEnum):
    pending = "pending"  # waiting for its turn (or for its next attempt)
    sending = "sending"  # claimed by a worker until `locked_until`
    sent = "sent"
    failed = "failed"  # permanent error or attempts exhausted: shown to the coordinator


class OutboxMessage(TimestampMixin, Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        Index("ix_outbox_messages_ordering", "ordering_key", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(40), index=True)
    # One message per event whatever the retries: the idempotency key.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    # Messages sharing an ordering key leave strictly in order (one appointment's story).
    ordering_key: Mapped[str | None] = mapped_column(String(120))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[OutboxStatus] = mapped_column(Enum(OutboxStatus, native_enum=False, length=10))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime]
    locked_until: Mapped[dt.datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(80))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None]
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PeriodicJobLease(Base):
    """Who leads one periodic job, until when, and when it last ran (see `app/outbox/leader.py`)."""

    __tablename__ = "periodic_job_leases"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[dt.datetime | None]
    last_run_at: Mapped[dt.datetime | None]
    last_run_by: Mapped[str | None] = mapped_column(String(120))
