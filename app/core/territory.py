"""The territory the platform serves: its communes, centres, postal codes and populations."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.identifiers import fold
from scheduler.bievre import COMMUNES


@dataclass(frozen=True)
class Commune:
    insee: str
    name: str
    postal_code: str
    latitude: float
    longitude: float
    population: int


# Postal codes are the app's concern (addresses); centres and populations come from
# the scheduler's description of the territory, so demo and benchmarks agree.
_POSTAL_CODES = {
    "94016": "94230",
    "94038": "94240",
    "94034": "94260",
    "94021": "94550",
    "94065": "94150",
}

BIEVRE = tuple(
    Commune(c.insee, c.name, _POSTAL_CODES[c.insee], c.lat, c.lon, c.population) for c in COMMUNES
)


def find_commune(*, insee: str | None = None, name: str | None = None) -> Commune | None:
    for commune in BIEVRE:
        if insee and commune.insee == insee:
            return commune
        if name and fold(commune.name) == fold(name):
            return commune
    return None
