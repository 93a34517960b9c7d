"""The territory the platform serves: its communes, centres and populations."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.identifiers import fold


@dataclass(frozen=True)
class Commune:
    insee: str
    name: str
    postal_code: str
    latitude: float
    longitude: float
    population: int


# CPTS de la Bièvre (Val-de-Marne): real commune centres, populations from the seed.
BIEVRE = (
    Commune("94016", "Cachan", "94230", 48.7914, 2.3336, 31069),
    Commune("94038", "L'Haÿ-les-Roses", "94240", 48.7800, 2.3374, 31204),
    Commune("94034", "Fresnes", "94260", 48.7558, 2.3222, 27802),
    Commune("94021", "Chevilly-Larue", "94550", 48.7664, 2.3533, 19491),
    Commune("94065", "Rungis", "94150", 48.7470, 2.3497, 5611),
)


def find_commune(*, insee: str | None = None, name: str | None = None) -> Commune | None:
    for commune in BIEVRE:
        if insee and commune.insee == insee:
            return commune
        if name and fold(commune.name) == fold(name):
            return commune
    return None
