"""The territory's rows: the CPTS identity (one row) and its communes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Double, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime, utcnow


class Territory(Base):
    """The CPTS whose territory is loaded: one row, replaced by each import."""

    __tablename__ = "territories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cpts_name: Mapped[str] = mapped_column(String(200))
    cpts_finess: Mapped[str | None] = mapped_column(String(9))
    source: Mapped[str] = mapped_column(String(1000))
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TerritoryCommune(Base):
    """A commune of the territory: its centre places patients without coordinates."""

    __tablename__ = "territory_communes"

    insee: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    postal_code: Mapped[str] = mapped_column(String(5))
    latitude: Mapped[float] = mapped_column(Double)
    longitude: Mapped[float] = mapped_column(Double)
    population: Mapped[int] = mapped_column(Integer)
