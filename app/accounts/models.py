"""Accounts of the people who use the service, each with one role."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, TimestampMixin


class Role(enum.StrEnum):
    secretary = "secretary"
    practitioner = "practitioner"
    coordinator = "coordinator"
    regulator = "regulator"
    admin = "admin"


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    practitioner_id: Mapped[int | None] = mapped_column(
        ForeignKey("practitioners.id", ondelete="SET NULL"), index=True
    )
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped to revoke every token already issued (logout everywhere, deactivation).
    token_version: Mapped[int] = mapped_column(default=0)
    # Regulators created by the SAS (INT_R02): national IDNPS and SAS technical id.
    national_id: Mapped[str | None] = mapped_column(String(20), unique=True)
    sas_technical_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(200))
    demo_only: Mapped[bool] = mapped_column(default=False)


class AuthSession(Base):
    """A web session or a bearer token (app/accounts/sessions.py), named by a hash."""

    __tablename__ = "auth_sessions"

    # SHA-256 (hex) of the secret the cookie or the token carries, never the secret itself.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
