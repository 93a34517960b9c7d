"""Read a territory file, import it, and answer "which commune is this?" from the database.

The communes change only when a territory file is imported, so they are kept in memory
for a short while per database (an import here drops the copy at once; an import by
another process is seen after ``CACHE_SECONDS``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.identifiers import fold
from app.territory.models import Territory, TerritoryCommune

#: The demo territory shipped with the package (``seed-demo`` imports it).
DEMO_TERRITORY_FILE = Path(__file__).resolve().parent.parent / "demo" / "territory-bievre.json"
FORMAT = "premier-recours/territory/1"
CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class Commune:
    insee: str
    name: str
    postal_code: str
    latitude: float
    longitude: float
    population: int


@dataclass(frozen=True)
class Communes:
    """The territory's communes, looked up by INSEE code or by name (accents folded)."""

    items: tuple[Commune, ...] = ()

    def __iter__(self) -> Iterator[Commune]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def population(self) -> int:
        return sum(c.population for c in self.items)

    def find(self, *, insee: str | None = None, name: str | None = None) -> Commune | None:
        for commune in self.items:
            if insee and commune.insee == insee:
                return commune
            if name and fold(commune.name) == fold(name):
                return commune
        return None


# --- the file -------------------------------------------------------------------------


class CommuneIn(BaseModel):
    insee: str = Field(pattern=r"^(?:[0-9]{5}|2[AB][0-9]{3})$")
    name: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(pattern=r"^[0-9]{5}$")
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    population: int = Field(ge=0)


class CptsIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    finess: str | None = Field(default=None, pattern=r"^[0-9]{9}$")


class TerritoryFile(BaseModel):
    """A territory file: the CPTS, the sources of the figures, the communes."""

    format: str = FORMAT
    cpts: CptsIn
    sources: dict[str, str] = Field(min_length=1)
    communes: list[CommuneIn] = Field(min_length=1)

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value != FORMAT:
            raise ValueError(f"format inconnu : {value!r} (attendu : {FORMAT})")
        return value

    @model_validator(mode="after")
    def _unique_codes(self) -> TerritoryFile:
        codes = [c.insee for c in self.communes]
        if len(codes) != len(set(codes)):
            raise ValueError("un code INSEE apparaît deux fois dans le fichier")
        return self


class TerritoryFileError(ValueError):
    """A territory file that cannot be read, with a French message for the operator."""


def read_file(path: str | Path) -> TerritoryFile:
    """Parse and check a territory file; errors name the file and the faulty field."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise TerritoryFileError(f"{path} : lecture impossible ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise TerritoryFileError(f"{path} : JSON invalide (ligne {exc.lineno})") from exc
    try:
        return TerritoryFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise TerritoryFileError(f"{path} : {where} : {first['msg']}") from exc


def communes_of(data: TerritoryFile) -> Communes:
    """The file's communes, without a database (synthetic instances, benchmarks)."""
    return Communes(tuple(Commune(**c.model_dump()) for c in data.communes))


# --- the database ----------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    removed: int
    unchanged: int


async def import_territory(*, session: AsyncSession, data: TerritoryFile) -> ImportResult:
    """Make the database's territory exactly the file's (the same file twice changes nothing)."""
    existing = {c.insee: c for c in (await session.scalars(select(TerritoryCommune))).all()}
    added = updated = unchanged = 0
    for commune in data.communes:
        values = commune.model_dump()
        row = existing.pop(commune.insee, None)
        if row is None:
            session.add(TerritoryCommune(**values))
            added += 1
        elif any(getattr(row, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            updated += 1
        else:
            unchanged += 1
    if existing:
        await session.execute(
            delete(TerritoryCommune).where(TerritoryCommune.insee.in_(list(existing)))
        )
    source = "; ".join(f"{key}: {value}" for key, value in sorted(data.sources.items()))[:1000]
    territory = await session.get(Territory, 1)
    if territory is None:
        session.add(
            Territory(id=1, cpts_name=data.cpts.name, cpts_finess=data.cpts.finess, source=source)
        )
    else:
        territory.cpts_name, territory.cpts_finess = data.cpts.name, data.cpts.finess
        territory.source = source
    await session.flush()
    forget(session)
    return ImportResult(added, updated, len(existing), unchanged)


async def has_territory(session: AsyncSession) -> bool:
    return await session.scalar(select(TerritoryCommune.insee).limit(1)) is not None


_cache: dict[str, tuple[float, Communes]] = {}


def _key(session: AsyncSession) -> str:
    """The database the session reads (sessions are bound to an engine here)."""
    return str(getattr(session.bind, "url", ""))


def forget(session: AsyncSession | None = None) -> None:
    """Drop the cached communes (of this session's database, or all)."""
    if session is None:
        _cache.clear()
    else:
        _cache.pop(_key(session), None)


async def communes(session: AsyncSession) -> Communes:
    """The territory's communes, from the database (kept ``CACHE_SECONDS``)."""
    key = _key(session)
    cached = _cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    rows = (await session.scalars(select(TerritoryCommune).order_by(TerritoryCommune.name))).all()
    found = Communes(
        tuple(
            Commune(r.insee, r.name, r.postal_code, r.latitude, r.longitude, r.population)
            for r in rows
        )
    )
    if found.items:
        # An empty territory is not cached: the import that fills it may come any moment.
        _cache[key] = (time.monotonic(), found)
    return found


async def find_commune(
    session: AsyncSession, *, insee: str | None = None, name: str | None = None
) -> Commune | None:
    return (await communes(session)).find(insee=insee, name=name)
